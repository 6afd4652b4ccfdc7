import { readdir, readFile, stat } from "node:fs/promises";
import { get } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { type RestartableServer, startRestartableServer } from "@parley/testing/restartable-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireBuiltWebApp } from "./support/browser.ts";

const dist = new URL("../dist/", import.meta.url);
let server: RestartableServer;
/** The main script's URL path, as index.html names it ("/assets/index-….js"). */
let mainScript: string;

beforeAll(async () => {
  requireBuiltWebApp();
  server = await startRestartableServer();
  const html = await (await fetch(`${server.url}/`, { headers: { accept: "text/html" } })).text();
  const src = /<script[^>]+src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  if (!src) throw new Error(`no script in index.html:\n${html}`);
  mainScript = src;
});
afterAll(async () => {
  await server?.close();
});

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with exactly these headers, the body as sent (fetch would add its own Accept-Encoding and decode). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    get(`${server.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    }).on("error", reject);
  });
}

const plainFile = () => readFile(new URL(`.${mainScript}`, dist));

describe("the web app's static files in production", () => {
  it("sends the main script brotli-compressed from the build, with Vary, its type and the immutable cache", async () => {
    // What a browser sends: brotli wins over gzip although the header names gzip first.
    const res = await rawGet(mainScript, { "accept-encoding": "gzip, deflate, br, zstd" });
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBe("br");
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.headers["content-type"]).toMatch(/^(text|application)\/javascript/);
    expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    const precompressed = await stat(new URL(`.${mainScript}.br`, dist));
    expect(Number(res.headers["content-length"])).toBe(precompressed.size);
    const plain = await plainFile();
    expect(res.body.length).toBeLessThan(plain.length / 3);
    expect(brotliDecompressSync(res.body).equals(plain)).toBe(true);
  });

  it("sends gzip to a client without brotli, and the plain file to one that takes neither", async () => {
    const plain = await plainFile();
    const gzipped = await rawGet(mainScript, { "accept-encoding": "br;q=0, gzip" });
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gzipped.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(gzipped.body).equals(plain)).toBe(true);
    // Conditional requests stay right: each encoding has a validator of its own.
    expect(gzipped.headers.etag).toBeDefined();

    const noCompression: Record<string, string>[] = [{}, { "accept-encoding": "identity" }];
    for (const headers of noCompression) {
      const res = await rawGet(mainScript, headers);
      expect(res.headers["content-encoding"]).toBeUndefined();
      expect(res.headers.vary).toMatch(/accept-encoding/i);
      expect(res.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(res.headers.etag).not.toBe(gzipped.headers.etag);
      expect(res.body.equals(plain)).toBe(true);
    }
  });

  it("publishes no source maps: none in the build, no reference in the script, /assets/*.map is 404", async () => {
    const names = await readdir(new URL("assets/", dist));
    expect(names.filter((name) => name.endsWith(".map"))).toEqual([]);
    expect((await plainFile()).toString("utf8")).not.toContain("sourceMappingURL");
    for (const path of [`${mainScript}.map`, "/assets/index.js.map"]) {
      const res = await rawGet(path, { "accept-encoding": "br" });
      expect(res.status, path).toBe(404);
    }
    // index.html stays revalidated on every visit: a new build is picked up at once.
    const page = await rawGet("/rooms", { accept: "text/html" });
    expect(page.headers["cache-control"]).toBe("no-cache");
  });
});
