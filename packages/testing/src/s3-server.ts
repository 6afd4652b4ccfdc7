import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

export interface S3Server extends AsyncDisposable {
  /** The server's S3_URL: `http://S3RVER:S3RVER@127.0.0.1:<port>/<bucket>`. */
  url: string;
  bucket: string;
  /** Every key in the bucket, read through the S3 API (what a store really wrote). */
  listKeys(): Promise<string[]>;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
}

// s3rver's one built-in account. It checks the access key id but not a V4 signature's secret, so
// a wrong secret goes unnoticed here: the parsing of S3_URL has its own tests.
const accessKeyId = "S3RVER";
const secretAccessKey = "S3RVER";

/**
 * A real S3-compatible server (s3rver: S3's REST API over a directory) on a free loopback port,
 * with a fresh directory and one bucket. In-process, so it needs no binary and runs wherever Node does.
 */
export async function startS3Server(bucket = "parley-test"): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), "parley-s3-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  let port: number;
  try {
    ({ port } = await server.run());
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.destroy();
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  };
  return {
    url: `http://${accessKeyId}:${secretAccessKey}@127.0.0.1:${port}/${bucket}`,
    bucket,
    async listKeys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
