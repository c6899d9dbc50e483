import type { MessageAttributes, Notifier } from '../../functions/ports/notifier.js';

/** A Notifier that keeps what it is given, or fails when told to. */
export class RecordingNotifier implements Notifier {
  readonly published: { message: string; attributes: MessageAttributes }[] = [];
  failWith: Error | undefined;

  async publish(message: string, attributes: MessageAttributes): Promise<{ messageId: string }> {
    if (this.failWith !== undefined) throw this.failWith;
    this.published.push({ message, attributes });
    return { messageId: `message-${this.published.length}` };
  }
}
