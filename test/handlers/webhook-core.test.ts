import { describe, expect, it } from 'vitest';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { handleWebhook, MAX_BODY_BYTES, type WebhookDeps } from '../../functions/handlers/webhook-core.js';
import { githubExamples, type GitHubExample } from '../support/github-examples.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { signedRequest, TEST_SECRET } from '../support/signed-request.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function deps(notifier: RecordingNotifier, extra: Partial<WebhookDeps> = {}): WebhookDeps {
  return { secret: TEST_SECRET, notifier, now: () => NOW, ...extra };
}

type Payload = Record<string, any>;
const BUILT_ACTIONS = ['opened', 'synchronize', 'reopened'];

/**
 * The rules restated from the raw payload, independently of normalise.ts:
 * what should be published for this example, or undefined when nothing should.
 */
function expectedRequest(example: GitHubExample, buildTags: boolean): Record<string, unknown> | undefined {
  const p = example.payload as Payload;
  const base = {
    deliveryId: DELIVERY,
    repository: p.repository.full_name,
    cloneUrl: p.repository.clone_url,
    sender: p.sender.login,
    receivedAt: NOW.toISOString(),
  };
  if (example.event === 'push') {
    if (p.deleted) return undefined;
    const isTag = p.ref.startsWith('refs/tags/');
    if (isTag && !buildTags) return undefined;
    const files = (p.commits as Payload[]).flatMap((c) => [...c.added, ...c.modified, ...c.removed]);
    return {
      ...base,
      event: 'push',
      ref: p.ref,
      branch: p.ref.split('/').slice(2).join('/'),
      sha: p.after,
      fromFork: false,
      message: p.head_commit?.message ?? '',
      ...(p.commits.length > 0 ? { changedFiles: [...new Set(files)] } : {}),
    };
  }
  if (!BUILT_ACTIONS.includes(p.action)) return undefined;
  return {
    ...base,
    event: 'pull_request',
    ref: `refs/pull/${p.number}/head`,
    branch: p.pull_request.head.ref,
    sha: p.pull_request.head.sha,
    baseBranch: p.pull_request.base.ref,
    pullRequest: p.number,
    fromFork: p.pull_request.head.repo?.full_name !== p.pull_request.base.repo.full_name,
    message: p.pull_request.title,
  };
}

const BUILD_EXAMPLES = githubExamples(['push', 'pull_request']);
const PING_EXAMPLES = githubExamples(['ping']);

describe('Function: handleWebhook', () => {
  it('has every push, pull_request and ping example to run', () => {
    // Assess: the package ships these; if it stops, the suite below would prove nothing.
    expect(BUILD_EXAMPLES.filter((e) => e.event === 'push').length).toBeGreaterThanOrEqual(7);
    expect(BUILD_EXAMPLES.filter((e) => e.event === 'pull_request').length).toBeGreaterThanOrEqual(29);
    expect(PING_EXAMPLES.length).toBeGreaterThanOrEqual(4);
  });

  describe.each([false, true])('signed GitHub examples (buildTags %s)', (buildTags) => {
    it.each(BUILD_EXAMPLES.map((e) => [e.label, e] as const))('%s: publishes exactly the expected BuildRequest, or nothing with a reason', async (_label, example) => {
      // Prepare
      const notifier = new RecordingNotifier();
      const expected = expectedRequest(example, buildTags);

      // Act
      const response = await handleWebhook(signedRequest(example.event, example.payload), deps(notifier, { buildTags }));

      // Assess
      expect(response.statusCode).toBe(202);
      const body = JSON.parse(response.body);
      if (expected === undefined) {
        expect(body).toEqual({ status: 'skipped', deliveryId: DELIVERY, reason: expect.any(String) });
        expect(notifier.published).toEqual([]);
      } else {
        expect(body).toEqual({ status: 'accepted', deliveryId: DELIVERY, messageId: 'message-1' });
        expect(notifier.published).toHaveLength(1);
        expect(JSON.parse(notifier.published[0].message)).toEqual(expected);
        expect(notifier.published[0].attributes).toEqual({ repository: expected.repository, event: example.event, ref: expected.ref });
      }
    });
  });

  it.each(PING_EXAMPLES.map((e) => [e.label, e] as const))('%s: answers a signed ping with 200 and publishes nothing', async (_label, example) => {
    // Prepare
    const notifier = new RecordingNotifier();

    // Act
    const response = await handleWebhook(signedRequest('ping', example.payload), deps(notifier));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ status: 'pong', deliveryId: DELIVERY });
    expect(notifier.published).toEqual([]);
  });

  describe.each([...BUILD_EXAMPLES, ...PING_EXAMPLES].map((e) => [e.label, e] as const))('%s', (_label, example) => {
    it('rejects a tampered body with 401 and publishes nothing', async () => {
      // Prepare: sign, then change one field after signing.
      const notifier = new RecordingNotifier();
      const request = signedRequest(example.event, example.payload);
      request.body = JSON.stringify({ ...example.payload, repository: { ...(example.payload as Payload).repository, full_name: 'mallory/evil' } });

      // Act
      const response = await handleWebhook(request, deps(notifier));

      // Assess
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body)).toEqual({ error: 'X-Hub-Signature-256 does not match' });
      expect(notifier.published).toEqual([]);
    });

    it('rejects a missing signature with 401 and publishes nothing', async () => {
      // Prepare
      const notifier = new RecordingNotifier();
      const request = signedRequest(example.event, example.payload);
      delete request.headers['x-hub-signature-256'];

      // Act
      const response = await handleWebhook(request, deps(notifier));

      // Assess
      expect(response.statusCode).toBe(401);
      expect(JSON.parse(response.body)).toEqual({ error: 'X-Hub-Signature-256 is missing' });
      expect(notifier.published).toEqual([]);
    });

    it('answers the same payload under an unknown event with 202, the reason, and nothing published', async () => {
      // Prepare
      const notifier = new RecordingNotifier();

      // Act
      const response = await handleWebhook(signedRequest('repository_dispatch', example.payload), deps(notifier));

      // Assess
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body)).toEqual({
        status: 'skipped',
        deliveryId: DELIVERY,
        reason: 'event "repository_dispatch" is not built (only push and pull_request)',
      });
      expect(notifier.published).toEqual([]);
    });

    it('rejects a signed body that is not JSON with 400', async () => {
      // Prepare: the payload cut short, signed as it is.
      const notifier = new RecordingNotifier();
      const request = signedRequest(example.event, example.payload);
      const body = (request.body as string).slice(0, -1);
      request.body = body;
      request.headers['x-hub-signature-256'] = signBody(TEST_SECRET, body);

      // Act
      const response = await handleWebhook(request, deps(notifier));

      // Assess
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ error: 'the body is not JSON' });
      expect(notifier.published).toEqual([]);
    });
  });

  it('rejects a body of 25 MB + 1 byte with 413 before looking at the signature', async () => {
    // Prepare
    const notifier = new RecordingNotifier();
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const request = { headers: { 'x-github-event': 'push', 'x-github-delivery': DELIVERY, 'x-hub-signature-256': signBody(TEST_SECRET, body) }, body };

    // Act
    const response = await handleWebhook(request, deps(notifier));

    // Assess
    expect(response.statusCode).toBe(413);
    expect(notifier.published).toEqual([]);
  });

  it('accepts a signed push padded to exactly 25 MB', async () => {
    // Prepare: JSON whitespace padding keeps the payload valid.
    const notifier = new RecordingNotifier();
    const json = JSON.stringify(BUILD_EXAMPLES.find((e) => e.event === 'push' && (e.payload as Payload).ref === 'refs/heads/master')!.payload);
    const body = json + ' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(json));
    const request = { headers: { 'x-github-event': 'push', 'x-github-delivery': DELIVERY, 'x-hub-signature-256': signBody(TEST_SECRET, body) }, body };

    // Act
    const response = await handleWebhook(request, deps(notifier));

    // Assess
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect(response.statusCode).toBe(202);
    expect(notifier.published).toHaveLength(1);
  });

  it('answers 503 when publishing fails, so GitHub shows the delivery as failed', async () => {
    // Prepare
    const notifier = new RecordingNotifier();
    notifier.failWith = new Error('SNS is down');
    const example = BUILD_EXAMPLES.find((e) => e.event === 'pull_request' && (e.payload as Payload).action === 'opened')!;

    // Act
    const response = await handleWebhook(signedRequest('pull_request', example.payload), deps(notifier));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.outcome).toBe('publish-failed');
    expect(JSON.parse(response.body)).toEqual({ error: 'the build request could not be queued; redeliver later' });
  });

  it('reads a form-encoded delivery (content type application/x-www-form-urlencoded)', async () => {
    // Prepare
    const notifier = new RecordingNotifier();
    const example = BUILD_EXAMPLES.find((e) => e.event === 'pull_request' && (e.payload as Payload).action === 'opened')!;
    const body = new URLSearchParams({ payload: JSON.stringify(example.payload) }).toString();
    const request = {
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-GitHub-Event': 'pull_request',
        'X-GitHub-Delivery': DELIVERY,
        'X-Hub-Signature-256': signBody(TEST_SECRET, body),
      },
      body,
    };

    // Act
    const response = await handleWebhook(request, deps(notifier));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(notifier.published[0].message)).toMatchObject({ pullRequest: 2, event: 'pull_request' });
  });

  it.each([
    ['the delivery id is missing', 'x-github-delivery', undefined, 'X-GitHub-Delivery is missing or too long'],
    ['the delivery id is absurdly long', 'x-github-delivery', 'd'.repeat(129), 'X-GitHub-Delivery is missing or too long'],
    ['the event is missing', 'x-github-event', undefined, 'X-GitHub-Event is missing'],
  ])('rejects a signed delivery when %s with 400', async (_label, header, value, error) => {
    // Prepare
    const notifier = new RecordingNotifier();
    const request = signedRequest('push', { zen: 'x' });
    request.headers[header] = value;

    // Act
    const response = await handleWebhook(request, deps(notifier));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error });
  });

  it('rejects signed JSON that is not a push payload with 400 and says what is missing', async () => {
    // Prepare
    const notifier = new RecordingNotifier();

    // Act
    const response = await handleWebhook(signedRequest('push', { ref: 'refs/heads/main' }), deps(notifier));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'repository is not an object' });
  });

  it('rejects a signed JSON array or string with 400', async () => {
    // Prepare
    const notifier = new RecordingNotifier();

    // Act
    const responses = await Promise.all([[], 'text', 42, null].map((payload) => handleWebhook(signedRequest('push', payload), deps(notifier))));

    // Assess
    expect(responses.map((r) => r.statusCode)).toEqual([400, 400, 400, 400]);
  });

  it('answers 202 with the reason for a repository outside the allowlist', async () => {
    // Prepare
    const notifier = new RecordingNotifier();
    const example = BUILD_EXAMPLES.find((e) => e.event === 'pull_request' && (e.payload as Payload).action === 'opened')!;

    // Act
    const response = await handleWebhook(signedRequest('pull_request', example.payload), deps(notifier, { allowlist: ['acme/*'] }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body).reason).toBe('repository Codertocat/Hello-World is not in the allowlist');
    expect(notifier.published).toEqual([]);
  });

  it('appends the delivery id and repository to the log keys', async () => {
    // Prepare
    const notifier = new RecordingNotifier();
    const keys: Record<string, unknown> = {};
    const logger = { info: () => {}, warn: () => {}, appendKeys: (k: Record<string, unknown>) => Object.assign(keys, k) };
    const example = BUILD_EXAMPLES.find((e) => e.event === 'pull_request' && (e.payload as Payload).action === 'opened')!;

    // Act
    await handleWebhook(signedRequest('pull_request', example.payload), deps(notifier, { logger }));

    // Assess
    expect(keys).toEqual({ deliveryId: DELIVERY, event: 'pull_request', repository: 'Codertocat/Hello-World' });
  });
});
