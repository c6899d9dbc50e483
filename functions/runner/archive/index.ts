/**
 * Archives: many files as ONE streamed object (a few S3 requests, not one per file),
 * faithful to what a stage left (permission bits, symbolic links that stay inside
 * the root), checked on the way down. Used for stage artifacts (root = the workspace)
 * and for dependency caches (root = the stage's HOME).
 *
 *   const entries = await listArchiveEntries(root, ['out', 'node_modules']);   // may throw UnsafeArtifactPath
 *   const { stream, packed } = packArchive(root, entries);
 *   await store.put(key, stream);                    // multipart, bounded memory (adapters/aws/multipart-upload.ts)
 *   const { sha256, bytes, compression } = await packed;
 *   ...
 *   await unpackArchive((await store.get(key))!, otherRoot, { sha256, bytes, compression, maxBytes, name: key });
 *   // ArtifactCorrupt on a sha256/size mismatch or unreadable bytes; UnsafeArchive, SnapshotTooLarge as for snapshots
 *
 * Keep `entries` (or a summary of them) beside the archive: it is what a report can
 * show without reading the archive.
 */
export { listArchiveEntries, type ArchiveEntry, type ArchiveEntryType } from './archive-entries.js';
export { packArchive, type ArchiveCompression, type ArchiveStream, type PackedArchive, type PackOptions } from './pack.js';
export { unpackArchive, type UnpackOptions } from './unpack.js';
export { extractTar, isInside, type ExtractOptions, type ExtractSummary } from './safe-extract.js';
export { readArchiveMember } from './read-member.js';
