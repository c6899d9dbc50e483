import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { auxvWordBytes, FALLBACK_UNITS, kernelUnits, parseAuxv } from '../../functions/runner/kernel-units.js';

/** An auxiliary vector as the kernel lays it out: (type, value) words, ended by AT_NULL. */
function auxv(pairs: [number, number][], wordBytes: 4 | 8, littleEndian: boolean): Buffer {
  const buffer = Buffer.alloc((pairs.length + 1) * 2 * wordBytes);
  [...pairs, [0, 0] as [number, number]].flat().forEach((value, i) => {
    if (wordBytes === 8) littleEndian ? buffer.writeBigUInt64LE(BigInt(value), i * 8) : buffer.writeBigUInt64BE(BigInt(value), i * 8);
    else littleEndian ? buffer.writeUInt32LE(value, i * 4) : buffer.writeUInt32BE(value, i * 4);
  });
  return buffer;
}

describe('Kernel units from the auxiliary vector', () => {
  it('are what getconf prints on this machine', () => {
    const getconf = (name: string) => Number(execFileSync('getconf', [name], { encoding: 'utf8' }).trim());
    expect(kernelUnits()).toEqual({ ticksPerSecond: getconf('CLK_TCK'), pageBytes: getconf('PAGESIZE') });
  });

  it('reads AT_PAGESZ and AT_CLKTCK among other entries, in any word size and byte order', () => {
    const entries: [number, number][] = [[33, 0x7ffd0000], [16, 0xbfebfbff], [6, 65536], [17, 250], [3, 0x400040]];
    for (const [wordBytes, littleEndian] of [[8, true], [8, false], [4, true], [4, false]] as const) {
      expect(parseAuxv(auxv(entries, wordBytes, littleEndian), wordBytes, littleEndian)).toEqual({ pageBytes: 65536, ticksPerSecond: 250 });
    }
  });

  it('stops at AT_NULL and leaves out what is missing, for the fallback to fill', () => {
    const vector = Buffer.concat([auxv([[6, 16384]], 8, true), auxv([[17, 1000]], 8, true)]);
    expect(parseAuxv(vector, 8, true)).toEqual({ pageBytes: 16384 });
    expect(parseAuxv(Buffer.alloc(5), 8, true)).toEqual({});
    expect(FALLBACK_UNITS).toEqual({ ticksPerSecond: 100, pageBytes: 4096 });
  });

  it("reads native words: 4 bytes on Node's 32-bit architectures, 8 on the others", () => {
    expect(['arm', 'ia32', 'mips', 'mipsel', 'ppc', 's390'].map(auxvWordBytes)).toEqual([4, 4, 4, 4, 4, 4]);
    expect(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64'].map(auxvWordBytes)).toEqual([8, 8, 8, 8, 8, 8]);
  });
});
