// kinesalite ships without type definitions; these are the parts the local cloud uses.
declare module 'kinesalite' {
  import type { Server } from 'node:http';
  interface KinesaliteOptions { path?: string; createStreamMs?: number; deleteStreamMs?: number; updateStreamMs?: number; shardLimit?: number }
  function kinesalite(options?: KinesaliteOptions): Server;
  export = kinesalite;
}
