/**
 * `buildfarm gc`: applies the local farm's retention policy now (serve applies it
 * at every start). See functions/local/retention.ts for what is kept.
 */
import { S3ArtifactStore } from '../../adapters/aws/s3-artifact-store.js';
import { deletePrefix } from '../../adapters/local/delete-prefix.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedS3 } from '../../adapters/local/embedded-s3.js';
import { LocalBus } from '../../adapters/local/local-bus.js';
import { BuildStore } from '../../local/build-store.js';
import { DataDirectoryInUse, servingProcess } from '../../local/data-directory-lock.js';
import { collectGarbage } from '../../local/garbage-collect.js';
import { openDataDirectory, workRootFor } from '../../local/data-directory.js';
import { DEFAULT_RETENTION, retentionFrom } from '../../local/retention.js';
import type { CliIo } from '../main.js';

const HELP = `Usage: buildfarm gc [options]

Removes finished builds of the local farm older than --keep-days that are not
among the newest --keep-builds: their S3 objects (snapshot, logs, artifacts,
report), their records and their bus messages; and the scratch directories of
stages whose farm process is gone. Keeps running builds, the planner's stage
history, the webhook secret, secrets.json and the demo repository.
'buildfarm serve' applies the same policy at every start.

Options:
  --data-dir DIR        the farm's data directory (default ./buildfarm-data; an old ./.buildfarm is moved there)
  --keep-days N         keep finished builds younger than N days (default ${DEFAULT_RETENTION.keepDays})
  --keep-builds N       keep the newest N builds whatever their age (default ${DEFAULT_RETENTION.keepBuilds})
  --dry-run             say what would be removed, remove nothing

Environment: BUILDFARM_KEEP_DAYS, BUILDFARM_KEEP_BUILDS (used when the flag is not given).`;

export async function gcCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h' },
      'data-dir': { type: 'string' },
      // `buildfarm run`'s old spelling, accepted everywhere as an alias of --data-dir.
      data: { type: 'string' },
      'keep-days': { type: 'string' },
      'keep-builds': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const policy = retentionFrom(values, io.env);
  const opened = await openDataDirectory(values['data-dir'] ?? values.data, io.cwd);
  if (opened.note) io.stderr.write(`buildfarm gc: ${opened.note}\n`);
  const directory = opened.path;
  const serving = await servingProcess(directory);
  if (serving !== undefined) throw new DataDirectoryInUse(`${directory} is served by buildfarm serve (pid ${serving}): it applies the retention policy at start; stop it to collect now`);

  const store = await BuildStore.open(join(directory, 'builds'));
  const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
  const s3 = await startEmbeddedS3(join(directory, 's3'));
  try {
    const outcome = await collectGarbage({ store, bus, deleteObjects: (prefix) => deletePrefix(s3.client, s3.bucket, prefix), listObjects: (prefix) => new S3ArtifactStore(s3.client, s3.bucket).list(prefix), workRoot: workRootFor(directory), now: new Date(), policy, dryRun: values['dry-run'] });
    const verb = values['dry-run'] ? 'would remove' : 'removed';
    io.stdout.write(
      `${verb} ${outcome.builds.length} build${outcome.builds.length === 1 ? '' : 's'}` +
        (values['dry-run'] ? '' : ` (${outcome.objects} objects, ${outcome.messages} bus messages)`) +
        ` and ${outcome.workDirectories.length} orphaned work director${outcome.workDirectories.length === 1 ? 'y' : 'ies'}` +
        `, ${outcome.cacheObjects.length} expired cache object${outcome.cacheObjects.length === 1 ? '' : 's'}` +
        ` (kept: finished builds younger than ${policy.keepDays} days and the newest ${policy.keepBuilds})\n`,
    );
    for (const id of outcome.builds) io.stdout.write(`  ${id}\n`);
    return 0;
  } finally {
    await store.flush();
    await s3.close();
  }
}
