/**
 * A local farm context for tests that build one repository on the embedded S3: us-east-1 prices,
 * 512 MB of Lambda /tmp, and whatever else the test sets (a policy, its own notifier).
 */
import type { EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { createFarmContext } from '../../functions/local/farm-context.js';
import type { Notifier } from '../../functions/ports/notifier.js';
import { RecordingNotifier } from './recording-notifier.js';

type FarmOptions = Parameters<typeof createFarmContext>[0];

export function oneRepositoryFarm(
  dataDirectory: string,
  s3: EmbeddedS3,
  repository: { name: string; path: string },
  more: Partial<FarmOptions> & { reports?: Notifier } = {},
): ReturnType<typeof createFarmContext> {
  return createFarmContext({
    dataDirectory,
    s3,
    reports: new RecordingNotifier(),
    repositories: [{ repository: repository.name, path: repository.path }],
    region: 'us-east-1',
    prices: DEFAULT_PRICE_BOOK,
    lambdaEphemeralStorageMB: 512,
    ...more,
  });
}
