import { PublishCommand, SNSClient, SNSServiceException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier, toMessageAttributes } from '../../../functions/adapters/aws/sns-notifier.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:BuildRequests';
const sns = mockClient(SNSClient);

describe('Class: SnsNotifier', () => {
  beforeEach(() => {
    sns.reset();
  });

  describe('Method: publish', () => {
    it('sends exactly the Publish request SNS expects', async () => {
      // Prepare
      sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
      const notifier = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC);

      // Act
      const result = await notifier.publish('{"a":1}', { repository: 'acme/api', costUsd: 1.25 });

      // Assess
      expect(result).toEqual({ messageId: 'm-1' });
      expect(sns.commandCalls(PublishCommand).map((call) => call.args[0].input)).toEqual([
        {
          TopicArn: TOPIC,
          Message: '{"a":1}',
          MessageAttributes: {
            repository: { DataType: 'String', StringValue: 'acme/api' },
            costUsd: { DataType: 'Number', StringValue: '1.25' },
          },
        },
      ]);
    });

    it('turns an SNS error into PublishFailed that keeps the cause', async () => {
      // Prepare
      const cause = new SNSServiceException({ name: 'InternalError', $fault: 'server', $metadata: {}, message: 'boom' });
      sns.on(PublishCommand).rejects(cause);
      const notifier = new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC);

      // Act
      const error = await notifier.publish('x', { event: 'push' }).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'PublishFailed', cause });
    });
  });
});

describe('Function: toMessageAttributes', () => {
  it('maps strings to String and numbers to Number', () => {
    // Assess
    expect(toMessageAttributes({ a: 'x', b: 0, c: -3.5 })).toEqual({
      a: { DataType: 'String', StringValue: 'x' },
      b: { DataType: 'Number', StringValue: '0' },
      c: { DataType: 'Number', StringValue: '-3.5' },
    });
  });

  it.each([
    ['an empty string', { ref: '' }],
    ['NaN', { cost: Number.NaN }],
    ['Infinity', { cost: Number.POSITIVE_INFINITY }],
  ])('refuses %s, which SNS would reject', (_label, attributes) => {
    // Assess
    expect(() => toMessageAttributes(attributes)).toThrow(expect.objectContaining({ name: 'PublishFailed' }));
  });
});
