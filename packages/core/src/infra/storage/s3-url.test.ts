import { describe, expect, it } from "vitest";
import { parseS3Url, S3UrlError } from "./s3-url.ts";

describe("parseS3Url", () => {
  it("reads endpoint, bucket, region and percent-encoded credentials, path-style", () => {
    expect(parseS3Url("http://S3RVER:S3RVER@127.0.0.1:4569/parley-test")).toEqual({
      endpoint: "http://127.0.0.1:4569",
      bucket: "parley-test",
      region: "us-east-1",
      accessKeyId: "S3RVER",
      secretAccessKey: "S3RVER",
    });
    expect(
      parseS3Url("https://AKIA:a%2Fb%2Bc%3D@account.r2.cloudflarestorage.com/files/?region=auto"),
    ).toEqual({
      endpoint: "https://account.r2.cloudflarestorage.com",
      bucket: "files",
      region: "auto",
      accessKeyId: "AKIA",
      secretAccessKey: "a/b+c=",
    });
  });

  it.each([
    ["not a url", "must be a URL"],
    ["s3://key:secret@host/bucket", "must be an http:// or https:// URL"],
    ["http://host/bucket", "must carry the credentials"],
    ["http://key@host/bucket", "must carry the credentials"],
    ["http://key:secret@host", "must name one bucket"],
    ["http://key:secret@host/a/b", "must name one bucket"],
    ["http://key:secret@host/Uppercase", "must name one bucket"],
    ["http://key:secret@host/bucket?regoin=eu", "unknown parameter: regoin"],
    ["http://key:secret@host/bucket?region=EU%20West", "invalid region"],
    ["http://key:%E0%A4%A@host/bucket", "badly percent-encoded credentials"],
  ])("refuses %s in one line that never repeats the secret", (value, reason) => {
    let refused: unknown;
    try {
      parseS3Url(value);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(S3UrlError);
    const message = (refused as S3UrlError).message;
    expect(message).toContain(reason);
    expect(message).not.toContain("\n");
    expect(message).not.toContain("secret");
  });
});
