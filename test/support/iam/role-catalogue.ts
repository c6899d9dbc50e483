/**
 * Checks a role against the catalogue of the AWS requests its code makes:
 *  - every catalogued request is allowed (with its real resource ARN and request context);
 *  - every grant (one action on one resource of an Allow statement) is needed by at least
 *    one catalogued request: a grant no code needs fails;
 *  - every grant names a resource its action takes (service authorization reference).
 * AWS managed policies are evaluated but not judged grant by grant (AWS owns them).
 *
 * Usage (in a test file): `describeRoleCatalogue('Plan', () => ({ policies, requests }))`.
 */
import { describe, expect, it } from 'vitest';
import { resourceMismatch } from './action-resources.js';
import { decide, type AwsRequest } from './evaluate.js';
import { grantUnits, type IdentityPolicy } from './role-policies.js';

export interface RoleCatalogue {
  policies: IdentityPolicy[];
  requests: AwsRequest[];
  /** Grants knowingly kept without a catalogued request, each with the reason. */
  justified?: { action: string; resource: string; why: string }[];
}

function label(request: AwsRequest): string {
  const context = request.context && Object.keys(request.context).length > 0 ? ` ${JSON.stringify(request.context)}` : '';
  return `${request.action} ${request.resource}${context}${request.why ? ` (${request.why})` : ''}`;
}

/** Requests the role may not make, with the simulator's verdict. */
export async function deniedRequests(catalogue: RoleCatalogue): Promise<string[]> {
  const denied: string[] = [];
  for (const request of catalogue.requests) {
    const decision = await decide(catalogue.policies, request);
    if (!decision.allowed) denied.push(`${label(request)}: ${decision.result}${decision.errors ? ` ${decision.errors}` : ''}`);
  }
  return denied;
}

/** Grants that no catalogued request uses and no justification covers. */
export async function unneededGrants(catalogue: RoleCatalogue): Promise<string[]> {
  const unneeded: string[] = [];
  for (const { policy, statement } of grantUnits(catalogue.policies)) {
    const alone: IdentityPolicy[] = [{ name: policy, policy: { Version: '2012-10-17', Statement: [statement] } }];
    let used = false;
    for (const request of catalogue.requests) {
      if ((await decide(alone, request)).allowed) {
        used = true;
        break;
      }
    }
    const justified = catalogue.justified?.some((j) => j.action === statement.Action && j.resource === statement.Resource);
    if (!used && !justified) unneeded.push(`${policy}: ${statement.Action} on ${statement.Resource}${statement.Condition ? ` if ${JSON.stringify(statement.Condition)}` : ''}`);
  }
  return unneeded;
}

/** Grants whose resource their action can never take. */
export async function misplacedGrants(policies: IdentityPolicy[]): Promise<string[]> {
  const problems: string[] = [];
  for (const { policy, statement } of grantUnits(policies)) {
    const problem = await resourceMismatch(statement.Action, statement.Resource);
    if (problem) problems.push(`${policy}: ${problem}`);
  }
  return problems;
}

export function describeRoleCatalogue(name: string, catalogue: () => RoleCatalogue): void {
  describe(`role: ${name}`, () => {
    it('may make every request its code makes', async () => {
      expect(await deniedRequests(catalogue())).toEqual([]);
    });
    it('holds no grant its code does not need', async () => {
      expect(await unneededGrants(catalogue())).toEqual([]);
    });
    it('grants each action only on a resource type the action takes', async () => {
      expect(await misplacedGrants(catalogue().policies)).toEqual([]);
    });
  });
}
