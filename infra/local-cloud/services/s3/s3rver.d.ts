// s3rver ships without type definitions; these are the parts the local cloud uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  interface S3rverOptions { port?: number; address?: string; silent?: boolean; directory: string; resetOnClose?: boolean; allowMismatchedSignatures?: boolean }
  class S3rver {
    constructor(options: S3rverOptions);
    /** The storage every controller calls (`ctx.store` and `ctx.app.store`); the local cloud replaces it. */
    store: unknown;
    context: { store: unknown };
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}

declare module 's3rver/lib/models/object' {
  import type { Readable } from 'node:stream';
  /** An object as s3rver's controllers pass it: `metadata` keeps only S3's stored headers and `x-amz-meta-*`. */
  class S3Object {
    constructor(bucket: string, key: string, content: Readable | Buffer | null, metadata: Record<string, string | number | undefined>);
    bucket: string;
    key: string;
    content: Readable | Buffer | null;
    metadata: Record<string, string>;
    range?: { start: number; end: number };
    readonly size: number;
  }
  export = S3Object;
}

declare module 's3rver/lib/models/bucket' {
  class S3Bucket {
    constructor(name: string, creationDate: Date);
    name: string;
    creationDate: Date;
  }
  export = S3Bucket;
}

declare module 's3rver/lib/models/error' {
  /** An S3 error answer; s3rver maps the code to its HTTP status. */
  class S3Error extends Error {
    constructor(code: string, message?: string, detail?: Record<string, string | number>);
    code: string;
    status: number;
  }
  export = S3Error;
}

declare module 's3rver/lib/models/config' {
  /** A bucket or object configuration (`cors`, `website`, `tagging`) parsed from its XML. */
  interface S3Config {
    type: string;
    toXML(space?: number): string;
  }
  export function getConfigModel(type: string): (new (xml: string) => S3Config) | undefined;
}
