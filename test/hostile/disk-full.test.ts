import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { pushRequest } from '../local/support/test-farm.js';

/** A real full disk needs a small filesystem: a tmpfs, which only root can mount. */
const canMount = process.getuid?.() === 0;
if (!canMount) console.warn('SKIPPED: the disk-full tests mount a small tmpfs and need root (CI runs as root)');

function fill(directory: string): void {
  // Fill the filesystem to the last byte: dd stops with ENOSPC.
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${join(directory, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
  } catch {
    // dd exits non-zero on ENOSPC: that is the point.
  }
}

describe.skipIf(!canMount)('defends against a full disk under the data directory', () => {
  let mountPoint: string;
  beforeEach(async () => {
    mountPoint = await mkdtemp(join(tmpdir(), 'full-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]);
  });
  afterEach(async () => {
    execFileSync('umount', ['-l', mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });

  describe('the embedded S3', () => {
    let s3: EmbeddedS3 | undefined;
    afterEach(async () => {
      await s3?.close();
      s3 = undefined;
    });

    it('fails an upload that fills the disk with a reason naming the disk, keeps serving, and leaves no partial object', async () => {
      // Prepare
      s3 = await startEmbeddedS3(join(mountPoint, 's3'));
      // Act: 8 MiB into a 4 MiB filesystem (a multipart upload: two parts)
      const attempt = s3.store.put('builds/b1/stages/s/artifacts/big.bin', Buffer.alloc(9 * 1024 * 1024, 1));
      // Assess
      await expect(attempt).rejects.toThrow(/disk is full \(ENOSPC\)/);
      const keys: string[] = [];
      for await (const object of s3.store.list('builds/b1/')) keys.push(object.key);
      expect(keys).toEqual([]);
      // Still serving: a small object goes in once there is room.
      expect(await s3.store.getText('builds/none')).toBeUndefined();
      await s3.store.put('small.txt', 'ok');
      expect(await s3.store.getText('small.txt')).toBe('ok');
    });

    it('fails a multipart upload begun on an already full disk with a reason naming the disk (found by the CLI load run)', async () => {
      // Prepare
      s3 = await startEmbeddedS3(join(mountPoint, 's3'));
      fill(mountPoint);
      // Act: CreateMultipartUpload writes the upload's key and metadata files first
      const attempt = s3.store.put('builds/b2/stages/s/artifacts.tar', Buffer.alloc(9 * 1024 * 1024, 3));
      // Assess
      await expect(attempt).rejects.toThrow(/disk is full/);
    });

    it('fails a single-request upload on a full disk the same way (no unhandled error event)', async () => {
      // Prepare
      s3 = await startEmbeddedS3(join(mountPoint, 's3'));
      fill(mountPoint);
      // Act
      const attempt = s3.store.put('report.json', Buffer.alloc(200 * 1024, 2));
      // Assess
      await expect(attempt).rejects.toThrow(/disk is full/);
      expect(await s3.store.getText('report.json')).toBeUndefined();
    });
  });

  describe('the build store', () => {
    it('opens on a full disk: cut-off builds are marked in memory, leftover temporary files are removed', async () => {
      // Prepare: a record left running, and the 0-byte temporary a crashed save leaves
      const directory = join(mountPoint, 'builds');
      mkdirSync(directory);
      const record = { id: 'cut-off', request: pushRequest(), state: 'running', queuedAt: new Date().toISOString(), stages: [] };
      writeFileSync(join(directory, 'cut-off.json'), JSON.stringify(record));
      writeFileSync(join(directory, 'cut-off.json.4242.tmp'), '');
      fill(mountPoint);
      // Act
      const store = await BuildStore.open(directory);
      // Assess
      expect(store.get('cut-off')!.state).toBe('interrupted');
      expect(store.unsavedAtOpen.map((unsaved) => unsaved.id)).toEqual(['cut-off']);
      expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      expect(existsSync(join(directory, 'cut-off.json'))).toBe(true);
    });
  });
});
