/** Where an S3-compatible bucket is and how to sign for it: what `S3_URL` says. */
export interface S3Location {
  /** Scheme, host and port only: the bucket travels in the path (path-style addressing). */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** A refused `S3_URL`; the message never repeats the URL, which holds a secret. */
export class S3UrlError extends Error {
  override name = "S3UrlError";
}

// S3's own bucket name rules (3 to 63 characters, lowercase, digits, dots, dashes), which MinIO,
// R2 and s3rver share: a typo fails at start, not at the first upload.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Reads `http(s)://ACCESS_KEY_ID:SECRET@host[:port]/bucket[?region=…]`. The credentials may be
 * percent-encoded (a secret with `/` or `+`, as AWS secrets often have). The region defaults to
 * us-east-1, which MinIO, s3rver and R2 (`auto`) accept when they ignore it.
 */
export function parseS3Url(value: string): S3Location {
  if (!URL.canParse(value)) throw new S3UrlError("must be a URL");
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new S3UrlError("must be an http:// or https:// URL");
  }
  if (!url.username || !url.password) {
    throw new S3UrlError("must carry the credentials as ACCESS_KEY_ID:SECRET@ before the host");
  }
  const bucket = url.pathname.replace(/^\/|\/$/g, "");
  if (!BUCKET.test(bucket)) {
    throw new S3UrlError("must name one bucket as its path (3-63 lowercase letters, digits, dots or dashes)");
  }
  const unknown = [...url.searchParams.keys()].filter((key) => key !== "region");
  if (unknown.length > 0) throw new S3UrlError(`has an unknown parameter: ${unknown.join(", ")}`);
  const region = url.searchParams.get("region") ?? "us-east-1";
  if (!/^[a-z0-9-]{1,32}$/.test(region)) throw new S3UrlError("has an invalid region");
  let accessKeyId: string;
  let secretAccessKey: string;
  try {
    accessKeyId = decodeURIComponent(url.username);
    secretAccessKey = decodeURIComponent(url.password);
  } catch {
    throw new S3UrlError("has badly percent-encoded credentials");
  }
  return { endpoint: url.origin, bucket, region, accessKeyId, secretAccessKey };
}
