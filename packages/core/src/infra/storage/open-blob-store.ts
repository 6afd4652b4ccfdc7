import { join } from "node:path";
import type { BlobStore } from "./blob-store.ts";
import { createLocalDiskStore } from "./local-disk-store.ts";
import type { S3Location } from "./s3-url.ts";

export interface BlobStoreSettings {
  dataDir: string;
  /** Set (from S3_URL): the bucket; unset: files under `dataDir/files`. */
  s3?: S3Location | undefined;
}

export interface OpenedBlobStore {
  store: BlobStore;
  /** Where the bytes go, for the start-up log line (never the credentials). */
  description: string;
  close(): void;
}

/** The one place that decides where attachment bytes live, for every entry point. */
export async function openBlobStore(settings: BlobStoreSettings): Promise<OpenedBlobStore> {
  if (settings.s3) {
    // Loaded only in S3 mode: the SDK takes ~150 ms to import, which a server on local disk
    // should not pay at every start (the bundle keeps it in a chunk of its own).
    const { createS3Store } = await import("./s3-store.ts");
    const store = createS3Store(settings.s3);
    return {
      store,
      description: `S3 bucket ${settings.s3.bucket} at ${settings.s3.endpoint}`,
      close: () => store.close(),
    };
  }
  const root = join(settings.dataDir, "files");
  return { store: createLocalDiskStore(root), description: `files under ${root}`, close: () => {} };
}
