/**
 * What a stage's commands see of the world: the environment they run with (nothing of the
 * runner's own beyond PATH and the locale, never its AWS credentials) and the secrets the
 * stage declares, resolved just before the commands start.
 */
import type { SecretsProvider } from '../ports/secrets.js';
import { SecretUnavailable } from './errors.js';
import type { StageJob } from './agent.js';

/** Environment variables of the runner that commands may see; nothing else leaks (no AWS credentials). */
const INHERITED_ENV = ['PATH', 'LANG', 'LC_ALL', 'TZ'];

/** Resolves every secret; the values read so far are kept on error so the log still masks them. */
export async function resolveSecrets(
  job: StageJob,
  provider: SecretsProvider,
): Promise<{ values: Record<string, string>; error?: SecretUnavailable }> {
  const values: Record<string, string> = {};
  // Forks never get secrets: the stage fails (SecretsDeniedForFork) before anything runs.
  if (job.fromFork) return { values };
  for (const [name, ref] of Object.entries(job.stage.secrets)) {
    try {
      values[name] = await provider.resolve(ref);
    } catch (error) {
      const message = `secret ${name} (${ref.raw}) could not be read: ${(error as Error).message}`;
      return { values, error: new SecretUnavailable(message, { cause: error }) };
    }
  }
  return { values };
}

export function commandEnv(
  job: StageJob,
  dirs: { workspace: string; home: string; tmp: string },
  secrets: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  const runtime = job.runtimeEnv ?? process.env;
  for (const name of INHERITED_ENV) {
    const value = runtime[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  Object.assign(env, {
    CI: 'true',
    BUILDFARM: 'true',
    BUILDFARM_BUILD_ID: job.buildId,
    BUILDFARM_STAGE: job.stage.name,
    BUILDFARM_RUNNER: job.runner,
    BUILDFARM_WORKSPACE: dirs.workspace,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
  });
  return { ...env, ...job.stage.env, ...secrets };
}
