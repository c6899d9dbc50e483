/** Writes a stage grant as `Select stages` does, for tests that run a runner without the state machine. */
import { randomBytes } from 'node:crypto';
import { grantRecordKey, stageGrant } from '../../functions/domain/credentials/grant.js';
import type { PlannedStage } from '../../functions/domain/plan/types.js';
import { grantTokenHash } from '../../functions/handlers/stage-credentials-core.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';

export async function writeGrant(
  store: ArtifactStore,
  buildId: string,
  stage: Pick<PlannedStage, 'name' | 'secrets'>,
  options: { secretsWithheld?: boolean; lifetimeSeconds?: number; now?: number } = {},
): Promise<string> {
  const token = randomBytes(32).toString('hex');
  const grant = stageGrant({
    buildId,
    stage,
    secretsWithheld: options.secretsWithheld ?? false,
    now: options.now ?? Date.now(),
    lifetimeSeconds: options.lifetimeSeconds ?? 3600,
  });
  await store.put(grantRecordKey(grantTokenHash(token)), JSON.stringify(grant), 'application/json');
  return token;
}
