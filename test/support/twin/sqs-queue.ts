/**
 * An SQS queue in moto subscribed to a topic, read as a subscriber reads it: SNS delivers each
 * message as its JSON envelope (Type, MessageId, TopicArn, Message, MessageAttributes) in the body.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-sqs-as-subscriber.html
 *
 * The SQS JSON protocol is spoken by hand (three actions): @aws-sdk/client-sqs is not among the
 * project's dependencies. moto's HTTP subscriptions would need no SQS, but they drop
 * MessageAttributes (moto/sns/models.py passes none to `get_post_data` for http/https), and the
 * attributes are what subscription filter policies match.
 */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

async function sqs<T>(endpoint: string, action: string, body: Record<string, unknown>): Promise<T> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
      // moto tells services apart by the credential scope; it checks no signature.
      authorization: 'AWS4-HMAC-SHA256 Credential=twin/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`SQS ${action} failed: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

export class SubscribedQueue {
  private constructor(
    private readonly endpoint: string,
    readonly url: string,
    readonly arn: string,
  ) {}

  static async create(endpoint: string, name: string): Promise<SubscribedQueue> {
    const { QueueUrl } = await sqs<{ QueueUrl: string }>(endpoint, 'CreateQueue', { QueueName: name });
    const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>(endpoint, 'GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
    return new SubscribedQueue(endpoint, QueueUrl, Attributes.QueueArn);
  }

  /** Every envelope waiting in the queue (received once: SQS hides them for its visibility timeout). */
  async receiveAll(): Promise<SnsEnvelope[]> {
    const envelopes: SnsEnvelope[] = [];
    for (;;) {
      const { Messages } = await sqs<{ Messages?: { Body: string }[] }>(this.endpoint, 'ReceiveMessage', { QueueUrl: this.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 });
      if (!Messages?.length) return envelopes;
      envelopes.push(...Messages.map((message) => JSON.parse(message.Body) as SnsEnvelope));
    }
  }
}
