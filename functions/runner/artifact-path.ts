/** Workspace-relative paths as the manifest stores them: `/`-separated, relative, no `..`. */

/** The path's segments when it is safe to place inside a workspace, else undefined. */
export function safeSegments(path: string): string[] | undefined {
  if (path.length === 0 || path.includes('\0') || path.includes('\\')) return undefined;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return undefined;
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 || segments.includes('..')) return undefined;
  return segments;
}
