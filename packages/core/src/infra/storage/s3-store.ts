import type { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { assertBlobKey, type BlobStore } from "./blob-store.ts";
import type { S3Location } from "./s3-url.ts";

export interface S3Store extends BlobStore {
  /** Closes the client's sockets: the server calls it when it stops. */
  close(): void;
}

/**
 * Blobs as objects in one bucket of an S3-compatible store (AWS, MinIO, R2, s3rver). Path-style
 * addressing, because MinIO and s3rver do not serve buckets as subdomains. Checksums only where
 * S3 requires them: the SDK's default CRC32 headers and trailers are refused or ignored by several
 * S3-compatible stores, and a put is a whole buffer sent with its length anyway.
 */
export function createS3Store(location: S3Location): S3Store {
  const client = new S3Client({
    endpoint: location.endpoint,
    region: location.region,
    forcePathStyle: true,
    credentials: { accessKeyId: location.accessKeyId, secretAccessKey: location.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
  const bucket = location.bucket;
  return {
    async put(key, body, contentType) {
      assertBlobKey(key);
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: contentType,
        }),
      );
    },
    async get(key) {
      assertBlobKey(key);
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        if (object.ContentLength === undefined || !object.Body) {
          throw new Error(`S3 answered GetObject for ${key} without a length or a body`);
        }
        // In Node the SDK's body is an http.IncomingMessage: a Readable with the SDK's helpers mixed in.
        return { body: object.Body as Readable, size: object.ContentLength };
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },
    async delete(key) {
      assertBlobKey(key);
      // S3 answers 204 for a key that does not exist: a repeated delete is already fine.
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    close() {
      client.destroy();
    },
  };
}

/** NoSuchKey from AWS; some compatible stores answer a bare 404 that the SDK names NotFound. */
function isMissing(error: unknown): boolean {
  return (
    error instanceof NoSuchKey ||
    (error instanceof S3ServiceException &&
      error.$metadata.httpStatusCode === 404 &&
      error.name !== "NoSuchBucket")
  );
}
