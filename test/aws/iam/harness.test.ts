/**
 * The IAM harness itself (test/support/iam): it must deny what IAM denies, or every catalogue
 * test built on it proves nothing. Small policies with known answers.
 */
import { describe, expect, it } from 'vitest';
import { resourceMismatch } from '../../support/iam/action-resources.js';
import { allowed, decide } from '../../support/iam/evaluate.js';
import { unneededGrants } from '../../support/iam/role-catalogue.js';
import type { IdentityPolicy } from '../../support/iam/role-policies.js';

const BUCKET = 'arn:aws:s3:::bf-bucket';
const role: IdentityPolicy[] = [
  {
    name: 'role',
    policy: {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `${BUCKET}/builds/*` },
        { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringLike: { 's3:prefix': ['builds/*'] } } },
        { Effect: 'Deny', Action: 's3:PutObject', Resource: `${BUCKET}/builds/locked/*` },
      ],
    },
  },
];

describe('IAM harness', () => {
  it('allows what a statement grants and nothing else', async () => {
    expect(await allowed(role, { action: 's3:GetObject', resource: `${BUCKET}/builds/b1/plan.json` })).toBe(true);
    expect(await allowed(role, { action: 's3:GetObject', resource: `${BUCKET}/history/x.json` })).toBe(false);
  });

  it('lets an explicit Deny win', async () => {
    expect(await allowed(role, { action: 's3:PutObject', resource: `${BUCKET}/builds/locked/x` })).toBe(false);
  });

  it('evaluates conditions on the request context: ListBucket without s3:prefix is denied by a prefix condition', async () => {
    expect(await allowed(role, { action: 's3:ListBucket', resource: BUCKET, context: { 's3:prefix': 'builds/b1/' } })).toBe(true);
    expect(await allowed(role, { action: 's3:ListBucket', resource: BUCKET, context: {} })).toBe(false);
  });

  it('intersects a session policy with the role: both must allow', async () => {
    const session = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `${BUCKET}/builds/b1/*` }] };
    expect(await allowed(role, { action: 's3:GetObject', resource: `${BUCKET}/builds/b1/plan.json` }, session)).toBe(true);
    expect(await allowed(role, { action: 's3:GetObject', resource: `${BUCKET}/builds/b2/plan.json` }, session)).toBe(false);
    // The session policy cannot add what the role lacks.
    const wide = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] };
    expect(await allowed(role, { action: 's3:GetObject', resource: `${BUCKET}/history/x.json` }, wide)).toBe(false);
  });

  it('reports a request the action cannot take as an error, not an allow', async () => {
    const decision = await decide(
      [{ name: 'p', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ecs:DeregisterTaskDefinition', Resource: '*' }] } }],
      { action: 'ecs:DeregisterTaskDefinition', resource: 'arn:aws:ecs:us-east-1:123456789012:task-definition/x:1' },
    );
    expect(decision.allowed).toBe(false);
    expect(decision.errors).toMatch(/wildcard/);
  });

  it('finds grants no request needs', async () => {
    const unneeded = await unneededGrants({ policies: role, requests: [{ action: 's3:GetObject', resource: `${BUCKET}/builds/b1/plan.json` }] });
    expect(unneeded).toEqual([
      `role: s3:PutObject on ${BUCKET}/builds/*`,
      `role: s3:ListBucket on ${BUCKET} if {"StringLike":{"s3:prefix":["builds/*"]}}`,
    ]);
  });

  it('knows which actions take which resources (service authorization reference)', async () => {
    expect(await resourceMismatch('ecs:DeregisterTaskDefinition', 'arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-*:*')).toMatch(/no resource-level permissions/);
    expect(await resourceMismatch('ecs:RunTask', 'arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-*')).toBeUndefined();
    expect(await resourceMismatch('s3:GetObject', 'arn:aws:s3:::bf-bucket')).toMatch(/matches none/);
    expect(await resourceMismatch('s3:NoSuchAction', '*')).toMatch(/not an IAM action/);
  });
});
