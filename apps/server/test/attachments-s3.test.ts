// S3 mode end to end: a server whose S3_URL points at a real S3-compatible server (s3rver, started
// here), driven the way a client does. The local-disk mode and the refusals are attachments.test.ts.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SignedUp } from "@parley/testing/accounts";
import { roomWith, setRoomRole, signUp } from "@parley/testing/chat-fixtures";
import { type S3Server, startS3Server } from "@parley/testing/s3-server";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let s3: S3Server;
let t: TestServer;
let dataDir: string;
beforeAll(async () => {
  s3 = await startS3Server();
  dataDir = await mkdtemp(join(tmpdir(), "parley-attachments-s3-"));
  // Through loadConfig, as main reads S3_URL from the environment.
  t = await startTestServer({ dataDir, s3: loadConfig({ S3_URL: s3.url }).s3 });
});
afterAll(async () => {
  await t?.close();
  await s3?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface AttachmentView {
  id: string;
  url: string;
  thumbnailUrl: string | null;
  size: number;
  contentType: string;
}

/** chat.attachments.create, then the bytes on the upload route: a client's two steps before the send. */
async function upload(
  account: SignedUp,
  roomId: string,
  bytes: Buffer,
  name: string,
  contentType: "image/png" | "text/plain",
): Promise<AttachmentView> {
  const created = await account.api.chat.attachments.create.mutate({
    roomId,
    name,
    size: bytes.length,
    contentType,
  });
  const response = await fetch(`${t.url}${created.uploadUrl}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${account.token}`, "content-type": "application/octet-stream" },
    body: bytes,
  });
  expect(response.status).toBe(200);
  return (await response.json()) as AttachmentView;
}

function get(account: SignedUp, path: string) {
  return fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${account.token}` } });
}

async function privateRoomWithMember() {
  const { owner, room } = await roomWith(t, true, "Files");
  const member = await signUp(t, "Member");
  await setRoomRole(t, room.id, member.user.id, "member");
  return { owner, member, room };
}

const picture = () =>
  sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .png()
    .toBuffer();

describe("attachments in S3 mode (S3_URL set, s3rver)", () => {
  it("a member downloads the sent bytes identical, an outsider gets 404, and the objects are in the bucket", async () => {
    const { owner, member, room } = await privateRoomWithMember();
    const outsider = await signUp(t, "Outsider");
    const image = await picture();
    // Multi-byte UTF-8: an encoding slip anywhere on the way would show.
    const text = Buffer.from(`notes ${randomUUID()}\n${"ünïcödé ✓ ".repeat(50)}`);
    const imageView = await upload(owner, room.id, image, "picture.png", "image/png");
    const textView = await upload(owner, room.id, text, "notes.txt", "text/plain");
    await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "",
      clientMessageId: randomUUID(),
      attachmentIds: [imageView.id, textView.id],
    });

    for (const [view, bytes] of [
      [imageView, image],
      [textView, text],
    ] as const) {
      const response = await get(member, view.url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-length")).toBe(String(bytes.length));
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
      expect((await get(outsider, view.url)).status).toBe(404);
    }
    const thumbnailUrl = imageView.thumbnailUrl;
    if (!thumbnailUrl) throw new Error("the image has no thumbnail");
    const thumbnail = await get(member, thumbnailUrl);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    expect((await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata()).width).toBe(320);
    expect((await get(outsider, thumbnailUrl)).status).toBe(404);

    expect(await s3.listKeys()).toEqual(
      expect.arrayContaining([`a/${imageView.id}`, `a/${imageView.id}.thumb`, `a/${textView.id}`]),
    );
    // Nothing went to the local disk store.
    expect(existsSync(join(dataDir, "files"))).toBe(false);
  });

  it("after the message is deleted its files are 404 at once, and the sweeper removes the objects", async () => {
    const { owner, member, room } = await privateRoomWithMember();
    const view = await upload(owner, room.id, await picture(), "gone.png", "image/png");
    const message = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "soon gone",
      clientMessageId: randomUUID(),
      attachmentIds: [view.id],
    });
    const keys = [`a/${view.id}`, `a/${view.id}.thumb`];
    expect(await s3.listKeys()).toEqual(expect.arrayContaining(keys));

    await owner.api.chat.messages.delete.mutate({ messageId: message.id });
    expect((await get(member, view.url)).status).toBe(404);
    expect((await get(owner, view.url)).status).toBe(404);

    await t.server.attachmentSweeper.sweep();
    const left = await s3.listKeys();
    for (const key of keys) expect(left).not.toContain(key);
  });
});
