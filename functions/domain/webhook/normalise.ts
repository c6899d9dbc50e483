import type { BuildRequest } from '../build-request.js';
import { isAllowed, type Allowlist } from './allowlist.js';
import { MalformedPayload } from './errors.js';
import { boundBuildRequest } from './request-size.js';
import { findSkipDirective } from './skip-directive.js';

/**
 * Turns a GitHub `push` or `pull_request` payload into a BuildRequest, or
 * into a decision not to build with a reason the webhook returns to GitHub
 * (it shows in the delivery log).
 *
 * Payload references:
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#push
 * https://docs.github.com/en/webhooks/webhook-events-and-payloads#pull_request
 */

export type BuildDecision = { build: true; request: BuildRequest } | { build: false; reason: string };

export interface NormaliseInput {
  /** `X-GitHub-Event`. */
  event: string;
  /** `X-GitHub-Delivery`. */
  deliveryId: string;
  /** The parsed JSON body. */
  payload: unknown;
  /** When the webhook received the delivery (an argument: the domain has no clock). */
  receivedAt: Date;
  allowlist?: Allowlist;
  /**
   * Build tag pushes too. Off by default: the pipeline file has no tag
   * trigger, so a tag would rebuild a commit its branch push already built.
   */
  buildTags?: boolean;
}

/** Pull request actions that change the code under test. */
export const BUILT_PULL_REQUEST_ACTIONS = ['opened', 'synchronize', 'reopened'] as const;

/** The head commit message travels for `[skip ci]` and display; request-size.ts bounds it in bytes too. */
export const MAX_MESSAGE_LENGTH = 4096;

const ZERO_SHA = /^0{40}$/;

export function normaliseDelivery(input: NormaliseInput): BuildDecision {
  const { event, payload } = input;
  if (event !== 'push' && event !== 'pull_request') {
    // The header is attacker-controlled text echoed back: keep the echo short.
    return { build: false, reason: `event ${JSON.stringify(event.slice(0, 64))} is not built (only push and pull_request)` };
  }
  const body = record(payload, 'payload');
  const repository = record(body.repository, 'repository');
  const fullName = text(repository.full_name, 'repository.full_name');
  if (!isAllowed(fullName, input.allowlist)) {
    return { build: false, reason: `repository ${fullName} is not in the allowlist` };
  }
  return event === 'push' ? normalisePush(input, body, repository) : normalisePullRequest(input, body, repository);
}

function normalisePush(input: NormaliseInput, body: Rec, repository: Rec): BuildDecision {
  const ref = text(body.ref, 'ref');
  const after = text(body.after, 'after');
  if (body.deleted === true || ZERO_SHA.test(after)) {
    return { build: false, reason: `${ref} was deleted` };
  }
  const isTag = ref.startsWith('refs/tags/');
  if (isTag && input.buildTags !== true) {
    return { build: false, reason: `tag push ${ref} is not built (tags are off)` };
  }
  if (!isTag && !ref.startsWith('refs/heads/')) {
    return { build: false, reason: `push to ${ref} is not built (not a branch)` };
  }
  const headCommit = body.head_commit === null || body.head_commit === undefined ? undefined : record(body.head_commit, 'head_commit');
  const message = headCommit === undefined ? '' : text(headCommit.message, 'head_commit.message', true);
  const directive = findSkipDirective(message);
  if (directive !== undefined) {
    return { build: false, reason: `head commit message contains ${directive}` };
  }
  const request: BuildRequest = {
    ...common(input, repository, body),
    event: 'push',
    ref,
    branch: ref.replace(/^refs\/(heads|tags)\//, ''),
    sha: after,
    fromFork: false,
    message: message.slice(0, MAX_MESSAGE_LENGTH),
  };
  const changedFiles = changedFilesOf(body.commits);
  if (changedFiles !== undefined) request.changedFiles = changedFiles;
  return { build: true, request: boundBuildRequest(request) };
}

function normalisePullRequest(input: NormaliseInput, body: Rec, repository: Rec): BuildDecision {
  const action = text(body.action, 'action');
  if (!(BUILT_PULL_REQUEST_ACTIONS as readonly string[]).includes(action)) {
    return { build: false, reason: `pull_request action "${action}" is not built (only ${BUILT_PULL_REQUEST_ACTIONS.join(', ')})` };
  }
  const pullRequest = record(body.pull_request, 'pull_request');
  const number = positiveInteger(body.number ?? pullRequest.number, 'number');
  const head = record(pullRequest.head, 'pull_request.head');
  const base = record(pullRequest.base, 'pull_request.base');
  const baseRepository = record(base.repo, 'pull_request.base.repo');
  // A deleted fork leaves `head.repo` null: treat it as a fork, the safe side.
  const headName = head.repo === null || head.repo === undefined ? undefined : text(record(head.repo, 'pull_request.head.repo').full_name, 'pull_request.head.repo.full_name');
  const baseName = text(baseRepository.full_name, 'pull_request.base.repo.full_name');
  const request: BuildRequest = {
    ...common(input, repository, body),
    event: 'pull_request',
    // The head commit is fetchable from the base repository under this ref, fork or not.
    ref: `refs/pull/${number}/head`,
    branch: text(head.ref, 'pull_request.head.ref'),
    sha: text(head.sha, 'pull_request.head.sha'),
    baseBranch: text(base.ref, 'pull_request.base.ref'),
    pullRequest: number,
    fromFork: headName === undefined || headName !== baseName,
    // A pull_request payload carries no commit message; the title stands in for display.
    message: text(pullRequest.title, 'pull_request.title', true).slice(0, MAX_MESSAGE_LENGTH),
  };
  return { build: true, request: boundBuildRequest(request) };
}

function common(input: NormaliseInput, repository: Rec, body: Rec) {
  const sender = body.sender === null || body.sender === undefined ? undefined : record(body.sender, 'sender');
  return {
    deliveryId: input.deliveryId,
    repository: text(repository.full_name, 'repository.full_name'),
    cloneUrl: text(repository.clone_url, 'repository.clone_url'),
    sender: sender === undefined ? '' : text(sender.login, 'sender.login', true),
    receivedAt: input.receivedAt.toISOString(),
  };
}

/**
 * Files added, modified or removed by the pushed commits, each once, in
 * first-seen order; undefined when GitHub listed no commits (boundBuildRequest
 * drops a list too big to carry).
 */
function changedFilesOf(commits: unknown): string[] | undefined {
  if (!Array.isArray(commits) || commits.length === 0) return undefined;
  const files = new Set<string>();
  for (const commit of commits) {
    const entry = record(commit, 'commits[]');
    for (const key of ['added', 'modified', 'removed'] as const) {
      const list = entry[key];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new MalformedPayload(`commits[].${key} is not a list`);
      for (const file of list) files.add(text(file, `commits[].${key}[]`));
    }
  }
  return [...files];
}

type Rec = Record<string, unknown>;

function record(value: unknown, path: string): Rec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedPayload(`${path} is not an object`);
  }
  return value as Rec;
}

function text(value: unknown, path: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value.length === 0)) {
    throw new MalformedPayload(`${path} is not a ${allowEmpty ? '' : 'non-empty '}string`);
  }
  return value;
}

function positiveInteger(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new MalformedPayload(`${path} is not a positive integer`);
  }
  return value;
}
