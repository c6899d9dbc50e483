/**
 * Runs work for one key at a time, in this process: the local farm's s3rver renames a key's files
 * under it, so two PUTs of one key cannot interleave their renames.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const turn = before.then(work);
    const tail = turn.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await turn;
    } finally {
      // The last one out forgets the key, so the map holds only keys being written.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
