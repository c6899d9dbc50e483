/**
 * The local farm's public surface, from outside: signed push deliveries as
 * GitHub sends them (a real `push` payload from @octokit/webhooks-examples,
 * pointed at a local repository and commit) and the JSON API's build list.
 */
import { randomUUID } from 'node:crypto';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { githubExample } from './github-examples.js';

/** Statuses a build ends in (docs/local-farm.md, The JSON API). */
export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];

export interface BuildSummary {
  id: string;
  status: string;
}

/** A real `push` to a branch, re-aimed at `repository` and `sha`. */
export function pushPayload(repository: string, sha: string): Record<string, unknown> {
  const payload = githubExample('push', (p) => (p.ref as string).startsWith('refs/heads/') && p.deleted === false);
  (payload.repository as Record<string, unknown>).full_name = repository;
  payload.after = sha;
  if (payload.head_commit) (payload.head_commit as Record<string, unknown>).id = sha;
  return payload;
}

export interface DeliveryOutcome {
  deliveryId: string;
  /** The HTTP status, or 0 when no answer came (the farm died, the connection was cut). */
  status: number;
  ms: number;
}

/** POSTs one signed delivery (HMAC-SHA256 over the exact body, a fresh X-GitHub-Delivery). */
export async function sendSignedPush(webhookUrl: string, secret: string, payload: unknown, deliveryId = randomUUID()): Promise<DeliveryOutcome> {
  const body = JSON.stringify(payload);
  const started = performance.now();
  try {
    const response = await fetch(webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': deliveryId, 'x-hub-signature-256': signBody(secret, body) },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return { deliveryId, status: response.status, ms: performance.now() - started };
  } catch {
    return { deliveryId, status: 0, ms: performance.now() - started };
  }
}

export async function listBuilds(farmUrl: string): Promise<BuildSummary[]> {
  const response = await fetch(`${farmUrl}/api/builds`, { signal: AbortSignal.timeout(30_000) });
  if (response.status !== 200) throw new Error(`GET /api/builds answered ${response.status}`);
  return (await response.json()) as BuildSummary[];
}

export async function getBuild(farmUrl: string, id: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${farmUrl}/api/builds/${encodeURIComponent(id)}`, { signal: AbortSignal.timeout(30_000) });
  if (response.status !== 200) throw new Error(`GET /api/builds/${id} answered ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

/**
 * Polls until every build is final and `expected` builds exist (a delivery accepted just before a crash
 * shows up once the restarted farm replays the bus); resolves with the list, or the last list seen after
 * `timeoutMs`.
 */
export async function waitSettled(farmUrl: string, settled: (builds: BuildSummary[]) => boolean, timeoutMs: number): Promise<{ builds: BuildSummary[]; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let builds: BuildSummary[] = [];
  for (;;) {
    builds = await listBuilds(farmUrl).catch(() => builds);
    if (settled(builds)) return { builds, settled: true };
    if (Date.now() > deadline) return { builds, settled: false };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export const allFinal = (builds: BuildSummary[]) => builds.every((b) => FINAL_STATUSES.includes(b.status));

/** Percentile of `values` (nearest rank), 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const MiB = 1024 * 1024;
export const toMiB = (bytes: number) => Math.round((bytes / MiB) * 10) / 10;
