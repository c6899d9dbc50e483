/**
 * A percentage: `25%` or `25` (both mean 25 per cent), 0 or more. A pull request whose cost is
 * more than this much above its base branch's last successful build fails its cost status.
 *
 * On its own, without the YAML reader: the farm's settings (plan/farm-settings.ts) parse it too,
 * and `buildfarm run` handing its build to a running farm must not load the YAML parser (issue 12's
 * fixed overhead).
 */
export function parsePercent(raw: unknown): { ok: true; value: number } | { ok: false } {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  const match = /^(\d+(?:\.\d+)?)\s*%?$/.exec(text);
  return match ? { ok: true, value: Number(match[1]) } : { ok: false };
}
