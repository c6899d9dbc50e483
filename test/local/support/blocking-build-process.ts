/**
 * A stand-in for functions/local/child-build/build-process.ts that speaks the
 * same IPC protocol but blocks its own event loop hard (a busy loop of
 * BLOCK_MS) before it reports: if the runner ran builds on the farm's event
 * loop, the farm would be as blocked as this process is.
 */
import type { FromBuildProcess, ToBuildProcess } from '../../../functions/local/child-build/protocol.js';
import type { BuildReport } from '../../../functions/domain/report/types.js';

const BLOCK_MS = Number(process.env.BLOCK_MS ?? 3000);

process.on('message', (message: ToBuildProcess) => {
  if (message.type !== 'run') return;
  const send = (m: FromBuildProcess) => process.send!(m);
  send({ type: 'stageStarted', stage: 'busy', at: new Date().toISOString() });
  const until = Date.now() + BLOCK_MS;
  while (Date.now() < until) {
    // Blocked: no timer, no I/O, no IPC in this process until the loop ends.
  }
  const report = { buildId: message.input.buildId, status: 'succeeded', stages: [] } as unknown as BuildReport;
  process.send!({ type: 'report', report } satisfies FromBuildProcess, undefined, {}, () => process.disconnect());
});
