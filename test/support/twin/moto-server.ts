/**
 * moto_server (moto 5.2.1, python 3.11) as a child process for the twin tier: a free loopback
 * port, Step Functions execution switched on, stopped afterwards even when a test fails (and
 * killed on process exit, so a crashed worker leaves no server behind).
 *
 * `servicePort` is what moto's Step Functions engine calls for every service integration: it
 * builds its boto3 clients with `endpoint_url=http://localhost:{MOTO_PORT}`
 * (moto/stepfunctions/parser/asl/utils/boto_client.py, moto/settings.py `moto_server_port`).
 * Setting MOTO_PORT to the router's port, not moto's own, puts the router between the engine and
 * every AWS call it makes.
 *
 * Execution is switched on through the moto API (`POST /moto-api/config`, moto_api/_internal/
 * models.py `set_config`), the server-mode equivalent of `@mock_aws(config={"stepfunctions":
 * {"execute_state_machine": True}})`. It must happen before the first state machine is created:
 * the executing backend (`stepfunctions_parser_backends`) is a different store from the plain one.
 *
 * The server runs through moto_twin_server.py, which fills one gap of moto's engine (ECS task
 * parameters are never mapped to the API's member names); README.md says why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface MotoServer {
  /** `http://127.0.0.1:{port}`: moto itself. */
  endpoint: string;
  port: number;
  /** The server's output so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface MotoStartOptions {
  /** The port moto's Step Functions engine sends its service calls to (the router's); default moto's own. */
  servicePort?: number;
  /**
   * `twin` (default): moto with the twin's fixes to its Step Functions engine (moto_twin_server.py);
   * `plain`: moto as released, executions off (the CloudFormation tier).
   */
  flavour?: 'twin' | 'plain';
  /** Default 120 s: moto imports slowly on a busy machine (over 30 s at a load of 100 on two cores). */
  readyTimeoutMs?: number;
}

/** Why the tier cannot run here; undefined when `python` can import moto's server. */
export function motoUnavailableReason(python = 'python3', module = 'moto.server'): string | undefined {
  const probe = spawnSync(python, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${python} is not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `${python} cannot import ${module}: ${probe.stderr.trim().split('\n').at(-1) ?? ''} (pip install 'moto[server]==5.2.1')`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** moto.server with the ECS integration's parameter mapping filled in (see the file's docstring). */
const LAUNCHER = fileURLToPath(new URL('./moto_twin_server.py', import.meta.url));

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A worker that exits (or crashes) with a server still running kills it on the way out. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before it was ready:\n${log()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/config`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`moto_server was not ready within ${timeoutMs} ms:\n${log()}`);
}

export async function startMotoServer(options: MotoStartOptions = {}): Promise<MotoServer> {
  installExitHook();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const program = options.flavour === 'plain' ? ['-m', 'moto.server'] : [LAUNCHER];
  const child = spawn('python3', [...program, '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_PORT: String(options.servicePort ?? port), AWS_DEFAULT_REGION: 'us-east-1', PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    // Werkzeug logs every request: keep the tail only.
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
    live.delete(child);
  };
  try {
    await waitUntilReady(endpoint, child, options.readyTimeoutMs ?? 120_000, () => output);
    // Only the twin runs executions: with this setting on, moto keeps state machines in its
    // execution engine's backend, where the ones its CloudFormation creates are not found.
    if (options.flavour !== 'plain') await enableExecutions(endpoint);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, log: () => output, stop };
}

async function enableExecutions(endpoint: string): Promise<void> {
  const config = await fetch(`${endpoint}/moto-api/config`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!config.ok) throw new Error(`moto refused the Step Functions execution setting: ${config.status} ${await config.text()}`);
}
