import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// The built web app as the server serves it in production (webDistDir), with a stand-in build.
let dist: string;
let t: TestServer;
beforeAll(async () => {
  dist = await mkdtemp(join(tmpdir(), "parley-web-dist-"));
  await mkdir(join(dist, "assets"));
  await writeFile(join(dist, "index.html"), "<!doctype html><title>Parley</title>");
  await writeFile(join(dist, "assets", "index-abc123.js"), "console.log('app')");
  t = await startTestServer({ webDistDir: dist });
});
afterAll(async () => {
  await t?.close();
  await rm(dist, { recursive: true, force: true });
});

const get = (path: string, accept = "text/html") => fetch(`${t.url}${path}`, { headers: { accept } });

describe("serving the web app", () => {
  it("answers every page path with index.html, revalidated on each visit", async () => {
    for (const path of ["/", "/rooms/0b6b6f3e-2a8e-4c57-9a52-1c0e3f5d7a11", "/admin/submissions"]) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/html/);
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(await response.text()).toContain("<title>Parley</title>");
    }
  });

  it("serves hashed assets cached for good, and a missing one as a 404", async () => {
    const asset = await get("/assets/index-abc123.js", "*/*");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await get("/assets/index-gone.js", "*/*")).status).toBe(404);
  });

  it("never answers the API's paths with the app: a wrong API URL stays a JSON 404", async () => {
    for (const path of ["/trpc", "/trpc/no.such.procedure", "/api/nothing-here"]) {
      const response = await get(path);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      expect(response.status).toBe(404);
    }
    const post = await fetch(`${t.url}/rooms`, { method: "POST", headers: { accept: "text/html" } });
    expect(post.status).toBe(404);
  });

  it("serves the API alone when the app is not built", async () => {
    await using apiOnly = await startTestServer({ webDistDir: join(dist, "not-built") });
    const response = await fetch(`${apiOnly.url}/rooms`, { headers: { accept: "text/html" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  });
});
