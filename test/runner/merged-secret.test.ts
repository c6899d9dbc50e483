/**
 * The stage log merges a command's stdout and stderr. A hostile stage that holds a secret
 * must not get it into that merged log (which a fork's viewers may read) by printing its
 * parts on the two streams, byte by byte, or by closing one stream after a first half.
 * Run through runStage with real commands: the live output and the stored log are checked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { stageLogKey } from '../../functions/domain/storage-keys.js';
import { runStage } from '../../functions/runner/agent.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, secretRef, storeSnapshot } from '../support/stages.js';

const SECRET = 'hunter2-very-secret';

describe('Function: runStage, a secret printed across stdout and stderr', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let workRoot: string;
  let builds = 0;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'readme\n' });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'merged-secret-'));
  });
  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  /** Runs `commands` with TOKEN set to the secret; the halves come from plain variables where used. */
  async function run(commands: string[]): Promise<string[]> {
    builds += 1;
    const buildId = `merged-${builds}`;
    await storeSnapshot(store, buildId, repo);
    const output = new CapturedOutput();
    const stage = plannedStage({ name: 'leak', commands, secrets: { TOKEN: secretRef('token') }, env: { FIRST: 'hunter2-', SECOND: 'very-secret' } });
    const result = await runStage(
      { buildId, stage, runner: 'lambda', workRoot, deadline: Date.now() + 60_000 },
      { store, secrets: new MapSecrets({ token: SECRET }), now: Date.now, output },
    );
    expect(result.status).toBe('succeeded');
    return [output.text, (await store.getText(stageLogKey(buildId, 'leak')))!];
  }

  it('masks a secret whose first half ends stdout (closed) and whose second half starts stderr', async () => {
    // Act: with a masker per stream, stdout's held-back half was released when stdout closed, right before stderr's half
    const texts = await run(['printf "%s" "$FIRST"; exec 1>&-; sleep 0.2; printf "%s\\n" "$SECOND" >&2']);
    // Assess
    for (const text of texts) {
      expect(text).not.toContain(SECRET);
      expect(text).toContain('***\n');
    }
  });

  it('masks a secret printed one byte per write, alternating between stdout and stderr', async () => {
    // Act: each character of $TOKEN on its own write, odd ones on stderr
    const texts = await run([
      's="$TOKEN"; i=0; while [ -n "$s" ]; do rest="${s#?}"; c="${s%"$rest"}"; s="$rest"; if [ $((i % 2)) -eq 0 ]; then printf "%s" "$c"; else printf "%s" "$c" >&2; fi; i=$((i + 1)); sleep 0.01; done; echo " end"',
    ]);
    // Assess: the log shows the bytes in the order the agent read them (a slow agent may read two stdout bytes
    // before the stderr byte between them): masked when that order spells the secret, never the secret itself
    for (const text of texts) {
      expect(text).not.toContain(SECRET);
      const shown = /^(.*) end$/m.exec(text)?.[1];
      const sameBytes = (line: string) => [...line].sort().join('') === [...SECRET].sort().join('');
      expect(shown === '***' || (shown !== undefined && sameBytes(shown))).toBe(true);
    }
  });

  it('masks the base64 of a secret as a command prints it (an HTTP Basic header)', async () => {
    // Act
    const texts = await run(['printf "Authorization: Basic %s\\n" "$(printf "ci-user:%s" "$TOKEN" | base64 -w0)"']);
    // Assess: the visible base64 decodes to no 4 bytes of the secret
    const encoded = Buffer.from(`ci-user:${SECRET}`).toString('base64');
    for (const text of texts) {
      expect(text).toContain('Authorization: Basic ');
      expect(text).not.toContain(encoded.slice(12, 24));
      expect(text).toMatch(/Authorization: Basic [A-Za-z0-9+/]{0,12}\*\*\*/);
    }
  });

  it('masks a secret whose halves are printed by two commands in a row', async () => {
    // Act
    const texts = await run(['printf "%s" "$FIRST"', 'printf "%s\\n" "$SECOND"']);
    // Assess: the agent's "$ command" line stands between them, and nothing joins them around it
    for (const text of texts) expect(text).not.toContain(SECRET);
  });
});
