/**
 * A stage's secrets across the two helper modes: fetch resolves them and hands them to the
 * build user (never for a fork's pull request), one file per variable, which the build
 * container's script loads and deletes before any command runs (domain/fargate/stage-script.ts);
 * publish reads them again to mask the log.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { secretFile } from '../../domain/fargate/stage-script.js';
import type { PlannedStage } from '../../domain/plan/types.js';
import type { SecretsProvider } from '../../ports/secrets.js';
import { SecretUnavailable } from '../errors.js';
import { scriptPaths, secretHashesFile, type HelperContext } from './helper-context.js';
import type { HelperDeps } from './helper-deps.js';

/** Resolves every secret of the stage (none for a fork: fetch refused it before). */
export async function resolveSecrets(stage: PlannedStage, provider: SecretsProvider): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [name, ref] of Object.entries(stage.secrets ?? {})) {
    try {
      values[name] = await provider.resolve(ref);
    } catch (error) {
      throw new SecretUnavailable(`secret ${name} (${ref.raw}) could not be read: ${(error as Error).message}`, { cause: error });
    }
  }
  return values;
}

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Writes the values for the build user: a directory only it can enter (0700), one file
 * per variable only it can read (0400), raw bytes (the stage script assigns them without
 * parsing). The hashes go first, readable by the helpers' user only, so publish can tell
 * whether the values it reads again to mask the log are the ones the build saw.
 */
export async function handOverSecrets(values: Record<string, string>, context: HelperContext): Promise<void> {
  const paths = scriptPaths(context);
  const hashes = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, sha256(value)]));
  await rm(secretHashesFile(context), { force: true });
  await writeFile(secretHashesFile(context), JSON.stringify(hashes), { mode: 0o400, flag: 'wx' });
  await rm(paths.secretsDir, { recursive: true, force: true });
  await mkdir(paths.secretsDir, { mode: 0o700 });
  await chmod(paths.secretsDir, 0o700); // mkdir's mode is filtered by the umask
  for (const [name, value] of Object.entries(values)) {
    const file = secretFile(name, paths);
    // 'wx': never follow or reuse something already there.
    await writeFile(file, value, { mode: 0o400, flag: 'wx' });
    await chmod(file, 0o400);
    await chown(file, context.workspaceUid, context.workspaceUid);
  }
  await chown(paths.secretsDir, context.workspaceUid, context.workspaceUid);
}

/** How publish treats the log: masked with these values, or withheld (it could not be masked safely). */
export type LogMasking = { values: string[] } | { withheld: string };

/**
 * Reads the secrets again to mask the log (no plaintext was kept after the build). If one
 * cannot be read, or is no longer the value the build saw (rotated meanwhile), the log
 * may hold a value nothing can mask: it is withheld rather than uploaded.
 */
export async function logMasking(stage: PlannedStage, context: HelperContext, deps: HelperDeps): Promise<LogMasking> {
  const names = Object.keys(stage.secrets ?? {});
  if (names.length === 0 || context.fromFork) return { values: [] };
  let values: Record<string, string>;
  try {
    values = await resolveSecrets(stage, deps.secrets);
  } catch (error) {
    return { withheld: `${(error as Error).message}, so the log could not be masked` };
  }
  const handed = await readFile(secretHashesFile(context), 'utf8').then(
    (text) => JSON.parse(text) as Record<string, string>,
    () => undefined, // fetch failed before handing any secret over: the build had none
  );
  const changed = names.filter((name) => handed?.[name] !== undefined && handed[name] !== sha256(values[name]!));
  if (changed.length > 0) {
    return { withheld: `secret ${changed.join(', ')} changed during the build, so the log could hold the previous value unmasked` };
  }
  return { values: Object.values(values) };
}
