/** Builds .tar.gz archives entry by entry with tar-stream, so tests can craft hostile ones. */
import { gzipSync } from 'node:zlib';
import { pack, type Header } from 'tar-stream';

export interface TarEntry {
  header: Partial<Header> & { name: string };
  content?: string | Buffer;
}

export async function makeTarGz(entries: TarEntry[]): Promise<Buffer> {
  const packer = pack();
  const chunks: Buffer[] = [];
  packer.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve, reject) => {
    packer.on('end', resolve);
    packer.on('error', reject);
  });
  for (const entry of entries) {
    await new Promise<void>((resolve, reject) =>
      packer.entry(entry.header as Header, entry.content ?? '', (error) => (error ? reject(error) : resolve())),
    );
  }
  packer.finalize();
  await ended;
  return gzipSync(Buffer.concat(chunks));
}

export function file(name: string, content: string, mode = 0o644): TarEntry {
  return { header: { name, type: 'file', mode, size: Buffer.byteLength(content) }, content };
}
