import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import { PublishFailed } from '../../domain/webhook/errors.js';
import type { MessageAttributes, Notifier } from '../../ports/notifier.js';

/**
 * Publishes to an SNS topic. Strings travel as `String` attributes and
 * numbers as `Number`, the two types subscription filter policies match
 * (numeric ranges need `Number`).
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(message: string, attributes: MessageAttributes): Promise<{ messageId: string }> {
    const command = new PublishCommand({
      TopicArn: this.topicArn,
      Message: message,
      MessageAttributes: toMessageAttributes(attributes),
    });
    let messageId: string | undefined;
    try {
      ({ MessageId: messageId } = await this.client.send(command));
    } catch (error) {
      throw new PublishFailed(`SNS Publish to ${this.topicArn} failed: ${(error as Error).message}`, { cause: error });
    }
    if (messageId === undefined) throw new PublishFailed(`SNS Publish to ${this.topicArn} returned no MessageId`);
    return { messageId };
  }
}

/**
 * SNS rejects empty names and values and numbers it cannot parse, so they
 * fail here with a message that names the attribute.
 */
export function toMessageAttributes(attributes: MessageAttributes): Record<string, MessageAttributeValue> {
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new PublishFailed(`message attribute ${name} is not a finite number`);
      result[name] = { DataType: 'Number', StringValue: String(value) };
    } else {
      if (value.length === 0) throw new PublishFailed(`message attribute ${name} is empty, which SNS rejects`);
      result[name] = { DataType: 'String', StringValue: value };
    }
  }
  return result;
}
