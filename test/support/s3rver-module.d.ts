// s3rver ships no type declarations; this covers the part the tests and the local farm use.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory?: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }
  class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
  export default S3rver;
}

// s3rver's error type: its error middleware renders an S3Error as S3's XML error body.
declare module 's3rver/lib/models/error.js' {
  class S3Error extends Error {
    constructor(code: string, message: string, detail?: Record<string, unknown>);
  }
  export default S3Error;
}

// s3rver's object model: what its store answers a read with; ALLOWED_METADATA are the headers it keeps.
declare module 's3rver/lib/models/object.js' {
  class S3Object {
    constructor(bucket: string, key: string, content: import('node:stream').Readable | null, metadata: Record<string, string | number>);
    range?: { start: number; end: number };
    static ALLOWED_METADATA: readonly string[];
  }
  export default S3Object;
}
