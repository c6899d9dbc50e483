/**
 * Tar headers as packArchive writes them: POSIX ustar (pax, IEEE Std 1003.1-2017, `pax`
 * utility, "ustar Interchange Format"), with a pax extended header ('x') in front of an entry
 * whose path or link text does not fit ustar's fields or whose size does not fit 11 octal
 * digits. Owner, group and times are neutral (0), so identical inputs give identical
 * archives; GNU tar, bsdtar and tar-stream read them (test/runner/archive/tar-headers.test.ts).
 *
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */
import type { ArchiveEntry } from './archive-entries.js';

export const BLOCK = 512;
/** Largest size ustar's 12-byte field holds as 11 octal digits (8 GiB - 1). */
const MAX_OCTAL_SIZE = 0o77777777777;

const TYPE_FLAG = { file: '0', symlink: '2', directory: '5' } as const;

/** The header block(s) for one entry: [pax header, pax records padded] when needed, then the ustar header. */
export function entryHeaders(entry: ArchiveEntry): Buffer {
  const name = entry.type === 'directory' ? `${entry.path}/` : entry.path;
  const linkname = entry.type === 'symlink' ? (entry.target ?? '') : '';
  const size = entry.type === 'file' ? entry.size : 0;
  const records: string[] = [];
  const split = splitName(name);
  if (split === undefined) records.push(paxRecord('path', name));
  if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
  if (size > MAX_OCTAL_SIZE) records.push(paxRecord('size', String(size)));
  const header = ustar({
    name: split?.name ?? truncate(name, 100),
    prefix: split?.prefix ?? '',
    mode: entry.mode & 0o777,
    size: size > MAX_OCTAL_SIZE ? 0 : size,
    type: TYPE_FLAG[entry.type],
    linkname: truncate(linkname, 100),
  });
  if (records.length === 0) return header;
  const data = Buffer.from(records.join(''), 'utf8');
  const pax = ustar({ name: 'PaxHeader', prefix: '', mode: 0o644, size: data.length, type: 'x', linkname: '' });
  return Buffer.concat([pax, data, Buffer.alloc(padding(data.length)), header]);
}

/** Zero bytes after `size` bytes of content, up to the next block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** ustar's name (100 bytes) and prefix (155 bytes), split at a `/`; undefined when the path fits neither way. */
function splitName(name: string): { name: string; prefix: string } | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return { name, prefix: '' };
  // A directory's trailing `/` stays with the name part; the split is at an earlier `/`.
  for (let cut = name.indexOf('/'); cut > 0; cut = name.indexOf('/', cut + 1)) {
    const prefix = name.slice(0, cut);
    const rest = name.slice(cut + 1);
    if (rest === '' || rest === '/') break;
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { name: rest, prefix };
  }
  return undefined;
}

/** "LEN key=value\n", LEN counting its own digits (pax: "length keyword=value\n"). */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyBytes = Buffer.byteLength(body);
  let length = bodyBytes + String(bodyBytes).length;
  if (String(length).length !== String(bodyBytes).length) length = bodyBytes + String(length).length;
  return `${length}${body}`;
}

/** At most `bytes` UTF-8 bytes of `text`, never cutting a character. */
function truncate(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let end = Math.min(text.length, bytes);
  while (Buffer.byteLength(text.slice(0, end)) > bytes) end -= 1;
  return text.slice(0, end);
}

interface UstarFields {
  name: string;
  prefix: string;
  mode: number;
  size: number;
  type: string;
  linkname: string;
}

function ustar(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  octal(block, 100, 8, fields.mode);
  octal(block, 108, 8, 0); // uid
  octal(block, 116, 8, 0); // gid
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, 0); // mtime
  block.write(fields.type, 156, 1, 'latin1');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'latin1'); // magic "ustar\0", version "00"
  octal(block, 329, 8, 0); // devmajor
  octal(block, 337, 8, 0); // devminor
  block.write(fields.prefix, 345, 155, 'utf8');
  // The checksum: the sum of the header's bytes with its own field counted as spaces; six octal digits, NUL, space.
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i += 1) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return block;
}

/** A numeric field: octal digits, zero-padded, then NUL. */
function octal(block: Buffer, offset: number, width: number, value: number): void {
  block.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'latin1');
}
