// s3rver ships without type definitions; these are the parts the local cloud uses.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';
  interface S3rverOptions { port?: number; address?: string; silent?: boolean; directory: string; resetOnClose?: boolean; allowMismatchedSignatures?: boolean }
  class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
  export = S3rver;
}
