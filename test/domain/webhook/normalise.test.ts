import { describe, expect, it } from 'vitest';
import { normaliseDelivery } from '../../../functions/domain/webhook/normalise.js';
import { jsonBytes, MAX_BUILD_REQUEST_BYTES, MAX_CHANGED_FILES_BYTES } from '../../../functions/domain/webhook/request-size.js';
import { githubExample } from '../../support/github-examples.js';

const RECEIVED_AT = new Date('2026-11-22T12:00:00.000Z');
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

type Payload = Record<string, any>;
const branchPush = (): Payload => githubExample('push', (p) => p.ref === 'refs/heads/master' && p.deleted === false);
const tagPush = (): Payload => githubExample('push', (p) => String(p.ref).startsWith('refs/tags/') && p.deleted === false);
const pullRequest = (action = 'opened'): Payload => githubExample('pull_request', (p) => p.action === action);

function normalise(event: string, payload: unknown, extra: { allowlist?: string[]; buildTags?: boolean } = {}) {
  return normaliseDelivery({ event, deliveryId: DELIVERY, payload, receivedAt: RECEIVED_AT, ...extra });
}

describe('Function: normaliseDelivery', () => {
  describe('push', () => {
    it('turns a branch push into a BuildRequest with exactly these fields', () => {
      // Act
      const decision = normalise('push', branchPush());

      // Assess
      expect(decision).toEqual({
        build: true,
        request: {
          deliveryId: DELIVERY,
          event: 'push',
          repository: 'Codertocat/Hello-World',
          cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
          ref: 'refs/heads/master',
          branch: 'master',
          sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
          fromFork: false,
          message: 'Initial commit',
          changedFiles: ['README.md'],
          sender: 'Codertocat',
          receivedAt: '2026-11-22T12:00:00.000Z',
        },
      });
    });

    it('does not build a branch deletion', () => {
      // Prepare
      const payload = { ...branchPush(), deleted: true, after: '0'.repeat(40), head_commit: null };

      // Act & Assess
      expect(normalise('push', payload)).toEqual({ build: false, reason: 'refs/heads/master was deleted' });
    });

    it('does not build a push whose after is the zero sha even if deleted is missing', () => {
      // Prepare
      const payload = branchPush();
      delete payload.deleted;
      payload.after = '0'.repeat(40);

      // Act & Assess
      expect(normalise('push', payload).build).toBe(false);
    });

    it.each(['[skip ci]', '[ci skip]', '[SKIP CI]', '[no ci]'])('does not build when the head commit message contains %s', (directive) => {
      // Prepare
      const payload = branchPush();
      payload.head_commit.message = `Fix typo\n\n${directive}`;

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(decision).toEqual({ build: false, reason: `head commit message contains ${directive.toLowerCase()}` });
    });

    it('builds when skip ci only appears in an older commit of the push', () => {
      // Prepare
      const payload = branchPush();
      payload.commits = [{ ...payload.commits[0], message: 'wip [skip ci]' }, payload.commits[0]];

      // Act & Assess
      expect(normalise('push', payload).build).toBe(true);
    });

    it('skips tag pushes by default and says so', () => {
      // Act & Assess
      expect(normalise('push', tagPush())).toEqual({ build: false, reason: 'tag push refs/tags/simple-tag is not built (tags are off)' });
    });

    it('builds tag pushes when asked to, with the tag as the branch name', () => {
      // Act
      const decision = normalise('push', tagPush(), { buildTags: true });

      // Assess
      expect(decision).toMatchObject({ build: true, request: { ref: 'refs/tags/simple-tag', branch: 'simple-tag' } });
    });

    it('does not build a push to a ref that is neither a branch nor a tag', () => {
      // Prepare
      const payload = { ...branchPush(), ref: 'refs/notes/commits' };

      // Act & Assess
      expect(normalise('push', payload)).toEqual({ build: false, reason: 'push to refs/notes/commits is not built (not a branch)' });
    });

    it('lists each changed file once across commits, added, modified and removed', () => {
      // Prepare
      const payload = branchPush();
      const commit = payload.commits[0];
      payload.commits = [
        { ...commit, added: ['a.txt'], modified: ['README.md'], removed: [] },
        { ...commit, added: [], modified: ['a.txt', 'src/x.ts'], removed: ['old.txt'] },
      ];

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(decision).toMatchObject({ build: true, request: { changedFiles: ['a.txt', 'README.md', 'src/x.ts', 'old.txt'] } });
    });

    it('leaves changedFiles out when GitHub listed no commits', () => {
      // Prepare
      const payload = { ...branchPush(), commits: [] };

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(decision.build && 'changedFiles' in decision.request).toBe(false);
    });

    it('drops a changed-file list too big for an SNS message, so paths filters build rather than skip', () => {
      // Prepare
      const payload = branchPush();
      const files = Array.from({ length: 5000 }, (_, i) => `src/very/deep/directory/structure/file-number-${i}.ts`);
      payload.commits = [{ ...payload.commits[0], added: files }];

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(jsonBytes(files)).toBeGreaterThan(MAX_CHANGED_FILES_BYTES);
      expect(decision.build && decision.request.changedFiles).toBeUndefined();
    });

    it('keeps the request within its byte budget whatever the message holds (multi-byte and escaped characters count as bytes)', () => {
      // Prepare: 4096 characters of 4-byte emoji and of control characters JSON escapes to six bytes each
      const payload = branchPush();
      payload.head_commit.message = '\u0001'.repeat(2048) + '😀'.repeat(50_000);
      const files = Array.from({ length: 700 }, (_, i) => `src/${'é'.repeat(30)}/${i}.ts`);
      payload.commits = [{ ...payload.commits[0], added: files }];

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(decision.build).toBe(true);
      if (!decision.build) return;
      expect(jsonBytes(decision.request.message) - 2).toBeLessThanOrEqual(4 * 1024);
      expect(jsonBytes(decision.request)).toBeLessThanOrEqual(MAX_BUILD_REQUEST_BYTES);
    });

    it('bounds the message it carries', () => {
      // Prepare
      const payload = branchPush();
      payload.head_commit.message = 'x'.repeat(100_000);

      // Act
      const decision = normalise('push', payload);

      // Assess
      expect(decision.build && decision.request.message.length).toBe(4096);
    });
  });

  describe('pull_request', () => {
    it('turns an opened pull request into a BuildRequest with exactly these fields', () => {
      // Act
      const decision = normalise('pull_request', pullRequest('opened'));

      // Assess
      expect(decision).toEqual({
        build: true,
        request: {
          deliveryId: DELIVERY,
          event: 'pull_request',
          repository: 'Codertocat/Hello-World',
          cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
          ref: 'refs/pull/2/head',
          branch: 'changes',
          sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
          baseBranch: 'master',
          pullRequest: 2,
          fromFork: false,
          message: 'Update the README with new information.',
          sender: 'Codertocat',
          receivedAt: '2026-11-22T12:00:00.000Z',
        },
      });
    });

    it.each(['opened', 'synchronize', 'reopened'])('builds the %s action', (action) => {
      // Act & Assess
      expect(normalise('pull_request', pullRequest(action)).build).toBe(true);
    });

    it.each(['closed', 'labeled', 'assigned', 'edited', 'ready_for_review'])('does not build the %s action, and says why', (action) => {
      // Prepare
      const payload = { ...pullRequest(), action };

      // Act & Assess
      expect(normalise('pull_request', payload)).toEqual({
        build: false,
        reason: `pull_request action "${action}" is not built (only opened, synchronize, reopened)`,
      });
    });

    it('marks a pull request whose head is in another repository as from a fork', () => {
      // Prepare
      const payload = pullRequest();
      payload.pull_request.head.repo = { ...payload.pull_request.head.repo, full_name: 'mallory/Hello-World' };

      // Act
      const decision = normalise('pull_request', payload);

      // Assess
      expect(decision).toMatchObject({ build: true, request: { fromFork: true, repository: 'Codertocat/Hello-World', ref: 'refs/pull/2/head' } });
    });

    it('marks a pull request whose head repository was deleted as from a fork', () => {
      // Prepare
      const payload = pullRequest();
      payload.pull_request.head.repo = null;

      // Act & Assess
      expect(normalise('pull_request', payload)).toMatchObject({ build: true, request: { fromFork: true } });
    });
  });

  describe('allowlist', () => {
    it('builds a repository the allowlist names', () => {
      // Act & Assess
      expect(normalise('push', branchPush(), { allowlist: ['codertocat/hello-world'] }).build).toBe(true);
      expect(normalise('push', branchPush(), { allowlist: ['Codertocat/*'] }).build).toBe(true);
    });

    it('does not build a repository outside the allowlist, and says why', () => {
      // Act & Assess
      expect(normalise('pull_request', pullRequest(), { allowlist: ['acme/*', 'Codertocat/other'] })).toEqual({
        build: false,
        reason: 'repository Codertocat/Hello-World is not in the allowlist',
      });
    });
  });

  it.each(['issues', 'create', 'workflow_run', 'push ', 'PUSH'])('does not build the %j event', (event) => {
    // Act & Assess
    expect(normalise(event, branchPush())).toEqual({ build: false, reason: `event "${event}" is not built (only push and pull_request)` });
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a push without repository', { ref: 'refs/heads/main', after: 'abc' }],
    ['a push whose repository has no full_name', { ref: 'refs/heads/main', after: 'abc', repository: {} }],
    ['a push without ref', { after: 'abc', repository: { full_name: 'a/b', clone_url: 'x' } }],
    ['a push whose commits list files as a string', { ref: 'refs/heads/main', after: 'abc', repository: { full_name: 'a/b', clone_url: 'x' }, commits: [{ added: 'x' }] }],
  ])('rejects %s as malformed', (_label, payload) => {
    // Act & Assess
    expect(() => normalise('push', payload)).toThrow(expect.objectContaining({ name: 'MalformedPayload' }));
  });

  it('rejects a pull request without a number as malformed', () => {
    // Prepare
    const payload = pullRequest();
    delete payload.number;
    delete payload.pull_request.number;

    // Act & Assess
    expect(() => normalise('pull_request', payload)).toThrow(expect.objectContaining({ name: 'MalformedPayload', message: 'number is not a positive integer' }));
  });
});
