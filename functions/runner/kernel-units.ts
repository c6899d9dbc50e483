/**
 * The units of /proc's figures: clock ticks per second (CPU times in /proc/<pid>/stat) and the
 * page size (RSS there is in pages). Read from this process's ELF auxiliary vector,
 * /proc/self/auxv: AT_CLKTCK and AT_PAGESZ, the very values `getconf CLK_TCK` and
 * `getconf PAGESIZE` print (glibc's sysconf reads them there). Spawning getconf cost two
 * blocking child processes per farm start (issue 12's fixed overhead); a small file read does not.
 * https://man7.org/linux/man-pages/man3/getauxval.3.html
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';

const AT_PAGESZ = 6n;
const AT_CLKTCK = 17n;

export interface KernelUnits {
  ticksPerSecond: number;
  pageBytes: number;
}

/** Linux's USER_HZ and the common page size: what a machine without /proc/self/auxv gets. */
export const FALLBACK_UNITS: KernelUnits = { ticksPerSecond: 100, pageBytes: 4096 };

/** Parses an auxiliary vector: (type, value) pairs of native words, ended by AT_NULL. */
export function parseAuxv(auxv: Buffer, wordBytes: 4 | 8 = 8, littleEndian = endianness() === 'LE'): Partial<KernelUnits> {
  const word = (offset: number): bigint =>
    wordBytes === 8
      ? (littleEndian ? auxv.readBigUInt64LE(offset) : auxv.readBigUInt64BE(offset))
      : BigInt(littleEndian ? auxv.readUInt32LE(offset) : auxv.readUInt32BE(offset));
  const found: Partial<KernelUnits> = {};
  for (let offset = 0; offset + 2 * wordBytes <= auxv.length; offset += 2 * wordBytes) {
    const type = word(offset);
    if (type === 0n) break;
    const value = Number(word(offset + wordBytes));
    if (type === AT_PAGESZ && value > 0) found.pageBytes = value;
    if (type === AT_CLKTCK && value > 0) found.ticksPerSecond = value;
  }
  return found;
}

/** Node's 32-bit architectures (process.arch): their auxiliary vector has 4-byte words; every other is 64-bit. */
const THIRTY_TWO_BIT_ARCHES = new Set(['arm', 'ia32', 'mips', 'mipsel', 'ppc', 's390']);

/** The native word size of a `process.arch`. */
export function auxvWordBytes(arch: string): 4 | 8 {
  return THIRTY_TWO_BIT_ARCHES.has(arch) ? 4 : 8;
}

let units: KernelUnits | undefined;

/** This kernel's units, read once. */
export function kernelUnits(): KernelUnits {
  if (units === undefined) {
    let read: Partial<KernelUnits> = {};
    try {
      read = parseAuxv(readFileSync('/proc/self/auxv'), auxvWordBytes(process.arch));
    } catch {
      // No /proc (not Linux): the fallback.
    }
    units = { ...FALLBACK_UNITS, ...read };
  }
  return units;
}
