import type { Readable } from "node:stream";

/**
 * Where attachment bytes live: files under DATA_DIR by default (local-disk-store.ts), or an
 * S3-compatible bucket when S3_URL is set (s3-store.ts). Keys are made by the server from ids,
 * never from a user's file name. Bodies are whole buffers: an upload is at most the configured
 * limit (10 MiB by default) and must be read whole anyway, to detect its type and make a thumbnail.
 */
export interface BlobStore {
  /** Stores the bytes under a fresh key. Resolves once they are durable. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The bytes as a stream, with their length; null when nothing is stored under the key. */
  get(key: string): Promise<StoredBlob | null>;
  /** Removes the key. A key that is already gone is not an error: sweeps retry. */
  delete(key: string): Promise<void>;
}

export interface StoredBlob {
  body: Readable;
  size: number;
}

/** Keys are ours: lowercase ids, dots, dashes and slashes. Anything else is a bug, not input. */
const KEY = /^[a-z0-9][a-z0-9./-]{0,200}$/;

export function assertBlobKey(key: string): void {
  if (!KEY.test(key) || key.includes("..")) throw new Error(`invalid blob key: ${key}`);
}
