import type { BuildRequest } from '../build-request.js';
import { MalformedPayload } from './errors.js';

/**
 * Reads a BuildRequest back from an SNS message. The topic accepts anything
 * its policy lets publish, so start-build checks the shape before it names an
 * execution after it.
 */
export function parseBuildRequest(message: string): BuildRequest {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    throw new MalformedPayload('the build request is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedPayload('the build request is not an object');
  }
  const request = value as Record<string, unknown>;
  for (const key of ['deliveryId', 'repository', 'cloneUrl', 'ref', 'branch', 'sha', 'receivedAt'] as const) {
    if (typeof request[key] !== 'string' || request[key] === '') {
      throw new MalformedPayload(`the build request's ${key} is not a non-empty string`);
    }
  }
  for (const key of ['message', 'sender'] as const) {
    if (typeof request[key] !== 'string') throw new MalformedPayload(`the build request's ${key} is not a string`);
  }
  if (request.event !== 'push' && request.event !== 'pull_request') {
    throw new MalformedPayload(`the build request's event is not push or pull_request`);
  }
  if (typeof request.fromFork !== 'boolean') throw new MalformedPayload(`the build request's fromFork is not a boolean`);
  if (request.pullRequest !== undefined && !Number.isSafeInteger(request.pullRequest)) {
    throw new MalformedPayload(`the build request's pullRequest is not an integer`);
  }
  if (request.baseBranch !== undefined && typeof request.baseBranch !== 'string') {
    throw new MalformedPayload(`the build request's baseBranch is not a string`);
  }
  if (request.changedFiles !== undefined && !(Array.isArray(request.changedFiles) && request.changedFiles.every((f) => typeof f === 'string'))) {
    throw new MalformedPayload(`the build request's changedFiles is not a list of strings`);
  }
  return request as unknown as BuildRequest;
}
