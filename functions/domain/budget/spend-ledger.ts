/**
 * The spend ledger: one empty object per reported build, its cost in the key,
 *
 *   spend/{yyyy-mm}/{dd}/{owner}/{name}/{micro-dollars}-{buildId}
 *
 * so the spend of a month (and of each of its days, and each repository) is a listing of
 * `spend/{yyyy-mm}/`, with no object read: one LIST request per 1,000 builds of the month
 * (ListObjectsV2 returns up to 1,000 keys a page; https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html).
 * A build writes its key once, when it is reported; a retried Report writes the same key again
 * (a PUT of the same key replaces it, so nothing is counted twice), and the parser keeps one cost
 * per build in case two Report runs ever computed different costs.
 * The day is the build's finish (UTC): that is when its cost was reported.
 */
export interface SpendEntry {
  buildId: string;
  repository: string;
  /** `yyyy-mm-dd`, UTC. */
  day: string;
  costUsd: number;
}

export interface Spend {
  farmDayUsd: number;
  farmMonthUsd: number;
  repoDayUsd: number;
  repoMonthUsd: number;
  /** Of the figures above, what builds still running hold (their reservations: admission-order.ts). */
  farmHeldUsd?: number;
  repoHeldUsd?: number;
}

const MICRO = 1_000_000;

/** `yyyy-mm` of an instant, UTC. */
export function monthOf(at: Date): string {
  return at.toISOString().slice(0, 7);
}

export function dayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function spendMonthPrefix(month: string): string {
  return `spend/${month}/`;
}

/** The key a build's spend is recorded under. `repository` is `owner/name`. */
export function spendKey(entry: SpendEntry): string {
  const [month, dd] = [entry.day.slice(0, 7), entry.day.slice(8, 10)];
  const micro = Math.max(0, Math.round(entry.costUsd * MICRO));
  return `${spendMonthPrefix(month)}${dd}/${entry.repository.toLowerCase()}/${micro}-${entry.buildId}`;
}

const KEY = /^spend\/(\d{4}-\d{2})\/(\d{2})\/([^/]+\/[^/]+)\/(\d+)-(.+)$/;

/** The entry a key records, or undefined for a key that is not one (ignored, not fatal). */
export function parseSpendKey(key: string): SpendEntry | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, month, dd, repository, micro, buildId] = match;
  return { buildId: buildId!, repository: repository!, day: `${month}-${dd}`, costUsd: Number(micro) / MICRO };
}

/** What was spent today and this month, farm-wide and by `repository`, from a month's entries. */
export function sumSpend(entries: Iterable<SpendEntry>, repository: string, today: string): Spend {
  const byBuild = new Map<string, SpendEntry>();
  for (const entry of entries) {
    const seen = byBuild.get(entry.buildId);
    if (!seen || entry.costUsd > seen.costUsd) byBuild.set(entry.buildId, entry);
  }
  const repo = repository.toLowerCase();
  const spend: Spend = { farmDayUsd: 0, farmMonthUsd: 0, repoDayUsd: 0, repoMonthUsd: 0 };
  for (const entry of byBuild.values()) {
    if (entry.day.slice(0, 7) !== today.slice(0, 7)) continue;
    const isToday = entry.day === today;
    const isRepo = entry.repository === repo;
    spend.farmMonthUsd += entry.costUsd;
    if (isToday) spend.farmDayUsd += entry.costUsd;
    if (isRepo) spend.repoMonthUsd += entry.costUsd;
    if (isToday && isRepo) spend.repoDayUsd += entry.costUsd;
  }
  return spend;
}
