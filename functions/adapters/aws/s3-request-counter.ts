/**
 * Counts the S3 requests a client makes, by price tier, as they are sent: an SDK middleware on
 * the client's stack, so every path through the client is counted (GetObject, the HeadObject of a
 * miss, ListObjectsV2 pages, and the uploader's PutObject or CreateMultipartUpload + each
 * UploadPart + CompleteMultipartUpload). It sits in the finalizeRequest step below the retry
 * middleware, so a retried request counts once per attempt: S3 bills each request it receives.
 *
 * Tiers, per https://aws.amazon.com/s3/pricing/ (Requests & data retrievals, S3 Standard):
 * tier 1 "PUT, COPY, POST, LIST requests", tier 2 "GET, SELECT, and all other requests", and
 * "DELETE and CANCEL requests are free" (DeleteObject(s), AbortMultipartUpload).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3RequestCount } from '../../domain/report/cost-model.js';

export type S3RequestTier = 'tier1' | 'tier2' | 'free';

const FREE = new Set(['DeleteObjectCommand', 'DeleteObjectsCommand', 'AbortMultipartUploadCommand']);
/** PUT, COPY, POST and LIST: every Put*, Copy*, List*, the multipart writes, and the POST-based ones. */
const TIER1 = /^(Put|Copy|List|Create|Complete|UploadPart|Restore|Post)/;

export function s3RequestTier(commandName: string): S3RequestTier {
  if (FREE.has(commandName)) return 'free';
  return TIER1.test(commandName) ? 'tier1' : 'tier2';
}

/** A running count, which a stage or task reads (`snapshot`) into its record. */
export class S3RequestCounter {
  private tier1 = 0;
  private tier2 = 0;
  private readonly byCommand = new Map<string, number>();

  record(commandName: string): void {
    const tier = s3RequestTier(commandName);
    if (tier === 'tier1') this.tier1 += 1;
    else if (tier === 'tier2') this.tier2 += 1;
    this.byCommand.set(commandName, (this.byCommand.get(commandName) ?? 0) + 1);
  }

  /** The count so far, plus requests about to be made that cannot count themselves (a record's own PUT). */
  snapshot(pending: Partial<S3RequestCount> = {}): S3RequestCount {
    return { put: this.tier1 + (pending.put ?? 0), get: this.tier2 + (pending.get ?? 0) };
  }

  /** What was counted after `before` (a snapshot of this counter), plus `pending`. */
  since(before: S3RequestCount, pending: Partial<S3RequestCount> = {}): S3RequestCount {
    const now = this.snapshot(pending);
    return { put: now.put - before.put, get: now.get - before.get };
  }

  /** Per operation, for tests and logs. */
  commands(): Record<string, number> {
    return Object.fromEntries(this.byCommand);
  }

  /** Adds the counting middleware to `client` (once per client and counter); returns the client. */
  attach<C extends Pick<S3Client, 'middlewareStack'>>(client: C): C {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.record(context.commandName ?? 'UnknownCommand');
        return next(args);
      },
      // Below retryMiddleware (finalizeRequest, high): runs once per attempt.
      { step: 'finalizeRequest', priority: 'low', name: 'buildfarmS3RequestCounter', override: true },
    );
    return client;
  }
}
