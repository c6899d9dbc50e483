import { describe, expect, it } from 'vitest';
import { parseBuildRequest } from '../../../functions/domain/webhook/parse-build-request.js';
import { aBuildRequest } from '../../support/build-requests.js';

describe('Function: parseBuildRequest', () => {
  it('reads back what the webhook publishes', () => {
    // Prepare
    const request = aBuildRequest({ event: 'pull_request', pullRequest: 3, baseBranch: 'main', changedFiles: ['a'] });

    // Act & Assess
    expect(parseBuildRequest(JSON.stringify(request))).toEqual(request);
  });

  it.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['missing the delivery id', JSON.stringify({ ...aBuildRequest(), deliveryId: undefined })],
    ['an empty repository', JSON.stringify(aBuildRequest({ repository: '' }))],
    ['an unknown event', JSON.stringify({ ...aBuildRequest(), event: 'issues' })],
    ['fromFork as a string', JSON.stringify({ ...aBuildRequest(), fromFork: 'false' })],
    ['a fractional pull request', JSON.stringify({ ...aBuildRequest(), pullRequest: 1.5 })],
    ['changedFiles with numbers', JSON.stringify({ ...aBuildRequest(), changedFiles: [1] })],
  ])('rejects a message that is %s', (_label, message) => {
    // Act & Assess
    expect(() => parseBuildRequest(message)).toThrow(expect.objectContaining({ name: 'MalformedPayload' }));
  });
});
