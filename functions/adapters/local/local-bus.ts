/**
 * The local bus: stands in for the farm's two SNS topics (BuildRequests and
 * BuildReports) on one machine. Like SNS it stores a message before it
 * acknowledges the publish, then delivers it to every subscriber
 * asynchronously, so a slow subscriber never holds up a webhook reply.
 * Unlike SNS it keeps every message it carried (appended to a JSON Lines file
 * under .buildfarm/, flushed to disk before the publish resolves), which is what
 * the dashboard's "as published" view, the tests and the farm's recovery at
 * start (recover-accepted-builds.ts) read back.
 *
 * SNS delivery to Lambda is asynchronous with retries:
 * https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MessageAttributes, Notifier } from '../../ports/notifier.js';

export const TOPICS = ['BuildRequests', 'BuildReports'] as const;
export type TopicName = (typeof TOPICS)[number];

export interface BusMessage {
  messageId: string;
  topic: TopicName;
  /** The message body exactly as published (JSON text for both topics). */
  message: string;
  attributes: MessageAttributes;
  publishedAt: string;
}

export type BusSubscriber = (message: BusMessage) => Promise<void> | void;

export interface LocalBusOptions {
  /** JSON Lines file the messages are appended to; none keeps them in memory only. */
  file?: string;
  now?: () => Date;
  newId?: () => string;
  /** Called when a subscriber throws (SNS would retry, then dead-letter the message). */
  onDeliveryError?: (error: unknown, message: BusMessage) => void;
}

export class LocalBus {
  private readonly log: BusMessage[] = [];
  private readonly subscribers = new Map<TopicName, Set<BusSubscriber>>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Appends happen one after another, so lines never interleave. */
  private writes: Promise<void> = Promise.resolve();
  private readonly now: () => Date;
  private readonly newId: () => string;

  private constructor(private readonly options: LocalBusOptions) {
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  /** Opens the bus, reloading the messages an earlier run kept in `options.file`. */
  static async open(options: LocalBusOptions = {}): Promise<LocalBus> {
    const bus = new LocalBus(options);
    if (options.file !== undefined) {
      await mkdir(dirname(options.file), { recursive: true });
      bus.log.push(...(await readMessages(options.file)));
    }
    return bus;
  }

  /** The Notifier port for one topic: what the webhook and the report step publish through. */
  notifier(topic: TopicName): Notifier {
    return { publish: (message, attributes) => this.publish(topic, message, attributes) };
  }

  async publish(topic: TopicName, message: string, attributes: MessageAttributes = {}): Promise<{ messageId: string }> {
    const stored: BusMessage = { messageId: this.newId(), topic, message, attributes, publishedAt: this.now().toISOString() };
    await this.persist(stored);
    this.log.push(stored);
    for (const subscriber of this.subscribers.get(topic) ?? []) this.deliver(subscriber, stored);
    return { messageId: stored.messageId };
  }

  /** Subscribes to the messages published from now on; returns the unsubscribe function. */
  subscribe(topic: TopicName, subscriber: BusSubscriber): () => void {
    let set = this.subscribers.get(topic);
    if (set === undefined) {
      set = new Set();
      this.subscribers.set(topic, set);
    }
    set.add(subscriber);
    return () => set.delete(subscriber);
  }

  /** Every message carried (this run and earlier ones), oldest first. */
  messages(topic?: TopicName): BusMessage[] {
    return topic === undefined ? [...this.log] : this.log.filter((m) => m.topic === topic);
  }

  /**
   * Keeps only the messages `keep` accepts (retention: `buildfarm gc`), in memory and on
   * disk; the file is rewritten to a temporary and renamed, so a crash keeps the old one.
   * Returns how many were dropped.
   */
  async retain(keep: (message: BusMessage) => boolean): Promise<number> {
    await this.idle();
    const kept = this.log.filter(keep);
    const dropped = this.log.length - kept.length;
    if (dropped === 0) return 0;
    const file = this.options.file;
    if (file !== undefined) {
      const temporary = `${file}.${process.pid}.tmp`;
      const handle = await open(temporary, 'w');
      try {
        await handle.writeFile(kept.map((message) => `${JSON.stringify(message)}\n`).join(''), 'utf8');
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temporary, file);
    }
    this.log.splice(0, this.log.length, ...kept);
    return dropped;
  }

  /** Resolves once every delivery started so far has finished (and every message is on disk). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.writes;
  }

  private deliver(subscriber: BusSubscriber, message: BusMessage): void {
    const delivery = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => subscriber(message))
      .catch((error: unknown) => this.options.onDeliveryError?.(error, message))
      .finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  private persist(message: BusMessage): Promise<void> {
    const file = this.options.file;
    if (file === undefined) return Promise.resolve();
    const write = this.writes.then(() => appendDurably(file, `${JSON.stringify(message)}\n`));
    // Keep the chain alive after a failed write; the failing publish still rejects.
    this.writes = write.catch(() => undefined);
    return write;
  }
}

/**
 * Appends and flushes to the disk before resolving: a publish that resolved (and the
 * 202 the webhook answered after it) survives a kill -9 or a power cut right after.
 */
async function appendDurably(file: string, line: string): Promise<void> {
  const handle = await open(file, 'a');
  try {
    await handle.writeFile(line, 'utf8');
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function readMessages(file: string): Promise<BusMessage[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const messages: BusMessage[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    try {
      messages.push(JSON.parse(line) as BusMessage);
    } catch {
      // A line cut short by a crash mid-append: everything before it is intact.
    }
  }
  return messages;
}
