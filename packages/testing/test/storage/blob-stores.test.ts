// One contract, both BlobStore implementations: what the attachment routes rely on must hold on
// local disk and on a real S3-compatible server alike.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { type OpenedBlobStore, openBlobStore, parseS3Url } from "@parley/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3Server, startS3Server } from "../../src/s3-server.ts";

interface StoreUnderTest {
  opened: OpenedBlobStore;
  /** Every key the backing storage holds, read beside the store (directory listing, S3 listing). */
  storedKeys(): Promise<string[]>;
  close(): Promise<void>;
}

async function localDisk(): Promise<StoreUnderTest> {
  const dataDir = mkdtempSync(join(tmpdir(), "parley-blobs-"));
  const opened = await openBlobStore({ dataDir });
  return {
    opened,
    async storedKeys() {
      const root = join(dataDir, "files");
      const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
      return entries
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
        .sort();
    },
    async close() {
      opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function s3(): Promise<StoreUnderTest> {
  const server: S3Server = await startS3Server();
  const opened = await openBlobStore({ dataDir: "/nonexistent", s3: parseS3Url(server.url) });
  return {
    opened,
    storedKeys: () => server.listKeys(),
    async close() {
      opened.close();
      await server.stop();
    },
  };
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

describe.each([
  { name: "local disk", start: localDisk, description: /^files under .*\/files$/ },
  { name: "S3 (s3rver)", start: s3, description: /^S3 bucket parley-test at http:\/\/127\.0\.0\.1:\d+$/ },
])("BlobStore on $name", ({ start, description }) => {
  let subject: StoreUnderTest;
  beforeAll(async () => {
    subject = await start();
  });
  afterAll(async () => {
    await subject.close();
  });
  const key = (suffix = "") => `a/${randomUUID()}${suffix}`;

  it("is chosen by openBlobStore and described without credentials", () => {
    expect(subject.opened.description).toMatch(description);
    expect(subject.opened.description).not.toContain("S3RVER");
  });

  it("returns the exact bytes put, every byte value and a megabyte of noise, with their size", async () => {
    const { store } = subject.opened;
    const everyByte = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const noise = randomBytes(1024 * 1024 + 7);
    for (const bytes of [everyByte, noise]) {
      const k = key();
      await store.put(k, bytes, "application/octet-stream");
      const blob = await store.get(k);
      expect(blob?.size).toBe(bytes.length);
      if (!blob) throw new Error("stored blob not found");
      expect((await readAll(blob.body)).equals(bytes)).toBe(true);
    }
  });

  it("stores a thumbnail key beside its original and reports each one's own size", async () => {
    const { store } = subject.opened;
    const k = key();
    await store.put(k, Buffer.alloc(3000, 1), "image/png");
    await store.put(`${k}.thumb`, Buffer.alloc(40, 2), "image/webp");
    expect((await store.get(k))?.size).toBe(3000);
    const thumb = await store.get(`${k}.thumb`);
    if (!thumb) throw new Error("thumbnail not found");
    expect(thumb.size).toBe(40);
    expect((await readAll(thumb.body)).equals(Buffer.alloc(40, 2))).toBe(true);
    expect(await subject.storedKeys()).toEqual(expect.arrayContaining([k, `${k}.thumb`]));
  });

  it("answers null for a key never stored", async () => {
    expect(await subject.opened.store.get(key())).toBeNull();
  });

  it("deletes idempotently: a missing key, a stored one twice, and then get is null", async () => {
    const { store } = subject.opened;
    await expect(store.delete(key())).resolves.toBeUndefined();
    const k = key();
    await store.put(k, Buffer.from("bye"), "text/plain");
    await store.delete(k);
    await expect(store.delete(k)).resolves.toBeUndefined();
    expect(await store.get(k)).toBeNull();
    expect(await subject.storedKeys()).not.toContain(k);
  });

  it("refuses keys the server would never make, on put, get and delete, storing nothing", async () => {
    const { store } = subject.opened;
    const before = await subject.storedKeys();
    const invalid = [
      "",
      "../escape",
      "a/../../escape",
      "/absolute",
      "A/Upper",
      "a/with space",
      "a\\b",
      "a/é",
      ".hidden",
    ];
    for (const bad of invalid) {
      await expect(store.put(bad, Buffer.from("x"), "text/plain"), bad).rejects.toThrow(/invalid blob key/);
      await expect(store.get(bad), bad).rejects.toThrow(/invalid blob key/);
      await expect(store.delete(bad), bad).rejects.toThrow(/invalid blob key/);
    }
    expect(await subject.storedKeys()).toEqual(before);
  });
});
