/**
 * The twin's one AWS endpoint. moto's Step Functions engine sends every service call to
 * `localhost:$MOTO_PORT` (see moto-server.ts), and so do the handlers' SDK clients: this router
 * listens there and
 * - answers Lambda `Invoke` (`POST /2015-03-31/functions/{name}/invocations`) with a bound function,
 *   in Lambda's wire shape: the payload as the body, and for a thrown error status 200 with
 *   `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage}`, or 404
 *   ResourceNotFoundException for a function nobody bound
 *   (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html);
 * - answers the ECS actions bound with `bindEcs` (JSON 1.1, `X-Amz-Target:
 *   AmazonEC2ContainerServiceV20141113.{Action}`), errors as `{__type, message}`;
 * - forwards everything else to moto, byte for byte.
 *
 * Binding one more Lambda function or ECS action is one line: `router.bindFunction(name, fn)`,
 * `router.bindEcs('RunTask', fn)`.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** A bound function: the event in, the result out; a thrown error is a function error. */
export type TwinFunction = (event: unknown) => Promise<unknown>;
/** A bound ECS action: the JSON request in, the JSON response out; throw EcsError for an API error. */
export type EcsAction = (request: Record<string, unknown>) => Promise<unknown>;

/** An ECS API error (`ClientException`, `InvalidParameterException`, ...). */
export class EcsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export interface RoutedCall {
  kind: 'lambda' | 'ecs' | 'moto';
  /** Function name, ECS action, or `METHOD path` for moto. */
  target: string;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';

/** `name`, `arn:aws:lambda:{region}:{account}:function:{name}[:{qualifier}]` or `{account}:function:{name}` → name. */
export function functionNameOf(identifier: string): string {
  const parts = identifier.split(':');
  const at = parts.indexOf('function');
  return at >= 0 && parts[at + 1] ? parts[at + 1]! : parts[0]!;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Every AWS answer carries a request id (botocore reads it into error causes). */
function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': crypto.randomUUID(), ...headers });
  res.end(text);
}

export class TwinRouter {
  private readonly functions = new Map<string, TwinFunction>();
  private readonly ecsActions = new Map<string, EcsAction>();
  private server: Server | undefined;
  private motoEndpoint: URL | undefined;
  /** Every call the router saw, in order. */
  readonly calls: RoutedCall[] = [];
  /** Errors thrown while answering (a bound function's own errors are answers, not these). */
  readonly failures: Error[] = [];

  bindFunction(name: string, fn: TwinFunction): this {
    this.functions.set(functionNameOf(name), fn);
    return this;
  }

  bindEcs(action: string, fn: EcsAction): this {
    this.ecsActions.set(action, fn);
    return this;
  }

  /** Where everything unbound goes (moto starts after the router: it needs the router's port). */
  forwardTo(endpoint: string): void {
    this.motoEndpoint = new URL(endpoint);
  }

  async listen(): Promise<number> {
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => {
        this.failures.push(error as Error);
        if (!res.headersSent) sendJson(res, 500, { message: String((error as Error).message) });
        else res.destroy();
      });
    });
    // moto's engine calls `localhost`; where that resolves to ::1 first, urllib3 falls back to 127.0.0.1.
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const invoke = req.method === 'POST' ? INVOKE_PATH.exec(path) : null;
    if (invoke) return this.invoke(decodeURIComponent(invoke[1]!), req, res);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith(ECS_TARGET_PREFIX)) {
      const action = this.ecsActions.get(target.slice(ECS_TARGET_PREFIX.length));
      if (action) return this.ecs(target.slice(ECS_TARGET_PREFIX.length), action, req, res);
    }
    return this.forward(req, res);
  }

  private async invoke(identifier: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = functionNameOf(identifier);
    this.calls.push({ kind: 'lambda', target: name });
    const body = await readBody(req);
    const fn = this.functions.get(name);
    if (!fn) {
      const message = `Function not found: ${identifier}`;
      return sendJson(res, 404, { Type: 'User', message }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
    }
    const event = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
    try {
      const result = await fn(event);
      sendJson(res, 200, result === undefined ? null : result, { 'x-amz-executed-version': '$LATEST' });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      sendJson(res, 200, { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }, {
        'x-amz-executed-version': '$LATEST',
        'x-amz-function-error': 'Unhandled',
      });
    }
  }

  private async ecs(name: string, action: EcsAction, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.calls.push({ kind: 'ecs', target: name });
    const body = await readBody(req);
    const request = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
    try {
      sendJson(res, 200, await action(request), { 'content-type': 'application/x-amz-json-1.1' });
    } catch (error) {
      if (!(error instanceof EcsError)) throw error;
      sendJson(res, 400, { __type: error.type, message: error.message }, { 'content-type': 'application/x-amz-json-1.1' });
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const moto = this.motoEndpoint;
    if (!moto) throw new Error(`no moto endpoint to forward ${req.method} ${req.url} to`);
    this.calls.push({ kind: 'moto', target: `${req.method} ${(req.url ?? '/').split('?')[0]}` });
    return new Promise((resolve, reject) => {
      const upstream = httpRequest(
        { host: moto.hostname, port: moto.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => resolve());
          answer.on('error', reject);
        },
      );
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }
}
