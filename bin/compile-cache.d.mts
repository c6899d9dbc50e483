/** Turns V8's compile cache on in this user's own folder, when it exists and is safe; else nothing. */
export function enableOwnCompileCache(env?: NodeJS.ProcessEnv): void;
/** The resolved cache folder when only this user (or root) can change it or any folder above it. */
export function safeCacheDirectory(env?: NodeJS.ProcessEnv): string | undefined;
