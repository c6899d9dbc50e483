/** What local/embedded-s3-thread.ts and its worker (embedded-s3.entry.ts) say to each other. */
export type ToS3Worker =
  | { type: 'start'; directory: string; bucket: string; port: number }
  | { type: 'close' };

export type FromS3Worker =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'closed' };

/** What the worker gets at its start. */
export interface S3WorkerData {
  /** The CLI's V8 compile cache folder (bin/buildfarm.mjs vetted it), so s3rver's tree is compiled once here too. */
  compileCache?: string;
}
