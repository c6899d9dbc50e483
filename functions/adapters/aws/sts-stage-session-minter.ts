/**
 * Mints a stage's session: STS AssumeRole of StageAccessRole with the stage's inline
 * session policy. From a Lambda function this is role chaining, so DurationSeconds is at
 * most 3,600 (the caller keeps it within 900..3,600).
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { SessionRequest, StageSessionCredentials, StageSessionMinter } from '../../ports/stage-access.js';

export class StsStageSessionMinter implements StageSessionMinter {
  constructor(
    private readonly sts: STSClient,
    private readonly roleArn: string,
  ) {}

  async mint(request: SessionRequest): Promise<StageSessionCredentials> {
    const response = await this.sts.send(
      new AssumeRoleCommand({
        RoleArn: this.roleArn,
        RoleSessionName: request.sessionName,
        Policy: request.policy,
        DurationSeconds: request.durationSeconds,
      }),
    );
    const c = response.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`AssumeRole of ${this.roleArn} answered without credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration).toISOString(),
    };
  }
}
