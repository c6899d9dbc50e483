/** SNS-style message attributes: strings, or numbers that filter policies compare. */
export type MessageAttributes = Record<string, string | number>;

/** A publish/subscribe topic: SNS on AWS, the local bus in the local farm. */
export interface Notifier {
  publish(message: string, attributes: MessageAttributes): Promise<{ messageId: string }>;
}
