/**
 * The Host header names this machine: `localhost`, `127.0.0.1` or `[::1]`, with or
 * without a port. The local farm listens on 127.0.0.1 only, so any other name in
 * Host means a browser was pointed here through a name someone else controls
 * (DNS rebinding), and the dashboard must not answer it.
 * https://developer.mozilla.org/en-US/docs/Web/Security/Attacks/DNS_rebinding
 */
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isLocalHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = /^(\[[^\]]*\]|[^:]*)(?::\d{1,5})?$/.exec(host.trim().toLowerCase())?.[1];
  return name !== undefined && LOCAL_NAMES.has(name);
}
