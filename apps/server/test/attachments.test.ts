import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schema } from "@parley/db";
import { type Account, codeOf, rejectionOf, roomWith, signUp } from "@parley/testing/chat-fixtures";
import { eq } from "drizzle-orm";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const MAX_BYTES = 64 * 1024;
const QUOTA_BYTES = 200 * 1024;
const ABANDON_MS = 60_000;

let t: TestServer;
let dataDir: string;
let now = Date.now();
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "parley-attachments-"));
  t = await startTestServer({
    dataDir,
    clock: () => new Date(now),
    uploads: { maxBytes: MAX_BYTES, quotaBytes: QUOTA_BYTES, abandonMs: ABANDON_MS },
  });
});
afterAll(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

type ContentType = "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "application/pdf" | "text/plain";

/** The blob files on disk: what the store holds (nothing else writes under DATA_DIR/files). */
async function storedFiles(): Promise<string[]> {
  try {
    return (await readdir(join(dataDir, "files"), { recursive: true })).filter((f) => f.includes("/")).sort();
  } catch {
    return [];
  }
}

async function attachmentRow(id: string) {
  const [row] = await t.server.deps.db.select().from(schema.attachments).where(eq(schema.attachments.id, id));
  return row;
}

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 60 } } })
    .png()
    .toBuffer();
}

function put(account: Pick<Account, "token">, uploadUrl: string, body: Buffer) {
  return fetch(`${t.url}${uploadUrl}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${account.token}`, "content-type": "application/octet-stream" },
    body,
  });
}

function get(account: Pick<Account, "token"> | null, path: string) {
  return fetch(`${t.url}${path}`, { headers: account ? { authorization: `Bearer ${account.token}` } : {} });
}

/** Asks for an upload and sends the bytes: the two steps a client makes before the send. */
async function upload(
  account: Account,
  roomId: string,
  bytes: Buffer,
  options: { name?: string; contentType?: ContentType; size?: number } = {},
) {
  const created = await account.api.chat.attachments.create.mutate({
    roomId,
    name: options.name ?? "picture.png",
    size: options.size ?? bytes.length,
    contentType: options.contentType ?? "image/png",
  });
  const response = await put(account, created.uploadUrl, bytes);
  const body = (await response.json()) as Record<string, unknown>;
  return { created, response, body };
}

function sendWith(
  account: Account,
  roomId: string,
  attachmentIds: string[],
  content = "",
  clientMessageId = randomUUID(),
) {
  return account.api.chat.messages.send.mutate({ roomId, content, clientMessageId, attachmentIds });
}

describe("an attachment's way: upload, send, download", () => {
  it("a member downloads the image sent by another: the same bytes, inline, with its type, nosniff and a sandbox CSP; it has dimensions and a WebP thumbnail", async () => {
    const { owner, room } = await roomWith(t, true);
    const reader = await signUp(t, "Reader");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: reader.user.id });
    const image = await png(800, 600);
    const { created, response, body } = await upload(owner, room.id, image, { name: "holiday.png" });
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      id: created.attachmentId,
      contentType: "image/png",
      width: 800,
      height: 600,
    });
    expect(created.uploadUrl).toBe(`/api/v1/uploads/${created.attachmentId}`);

    const message = await sendWith(owner, room.id, [created.attachmentId], "look");
    const [view] = message.attachments;
    expect(view).toEqual({
      id: created.attachmentId,
      name: "holiday.png",
      contentType: "image/png",
      size: image.length,
      width: 800,
      height: 600,
      url: `/api/v1/files/${created.attachmentId}`,
      thumbnailUrl: `/api/v1/files/${created.attachmentId}/thumbnail`,
    });
    const history = await reader.api.chat.messages.list.query({ roomId: room.id });
    expect(history.items.find((m) => m.id === message.id)?.attachments).toEqual(message.attachments);

    const file = await get(reader, `/api/v1/files/${created.attachmentId}`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(image)).toBe(true);
    expect(file.headers.get("content-type")).toBe("image/png");
    expect(file.headers.get("content-disposition")).toMatch(/^inline; filename="holiday\.png"/);
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(file.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
    expect(file.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);

    const thumbnail = await get(reader, `/api/v1/files/${created.attachmentId}/thumbnail`);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    const meta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: "webp", width: 320, height: 240 });
  });

  it("a PDF is served as a download (Content-Disposition: attachment, an ASCII name and the UTF-8 one) with nosniff, and has no thumbnail", async () => {
    const { owner, room } = await roomWith(t, false);
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    const { created, body } = await upload(owner, room.id, pdf, {
      name: "Résumé 2026.pdf",
      contentType: "application/pdf",
    });
    expect(body).toMatchObject({
      contentType: "application/pdf",
      width: null,
      height: null,
      thumbnailUrl: null,
    });
    await sendWith(owner, room.id, [created.attachmentId]);
    const member = await signUp(t, "Member");
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    const file = await get(member, `/api/v1/files/${created.attachmentId}`);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(pdf)).toBe(true);
    expect(file.headers.get("content-type")).toBe("application/pdf");
    expect(file.headers.get("content-disposition")).toBe(
      `attachment; filename="R_sum_ 2026.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%202026.pdf`,
    );
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await get(member, `/api/v1/files/${created.attachmentId}/thumbnail`)).status).toBe(404);
  });

  it("a thread reply carries files like a message", async () => {
    const { owner, room } = await roomWith(t, false);
    const root = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "root",
      clientMessageId: randomUUID(),
    });
    const { created } = await upload(owner, room.id, await png(20, 10));
    const reply = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "",
      clientMessageId: randomUUID(),
      parentId: root.id,
      attachmentIds: [created.attachmentId],
    });
    expect(reply.attachments.map((a) => a.id)).toEqual([created.attachmentId]);
    expect((await attachmentRow(created.attachmentId))?.messageId).toBe(reply.id);
    const thread = await owner.api.chat.threads.list.query({ threadId: root.id });
    expect(thread.items[0]?.attachments).toEqual(reply.attachments);
  });

  it("a message needs text or a file: neither is BAD_REQUEST on content", async () => {
    const { owner, room } = await roomWith(t, false);
    const refusal = await rejectionOf(
      owner.api.chat.messages.send.mutate({ roomId: room.id, content: " ", clientMessageId: randomUUID() }),
    );
    expect(refusal.code).toBe("BAD_REQUEST");
    expect(refusal.message).toMatch(/content/);
  });
});

describe("who may fetch a file", () => {
  it("an outsider gets 404 for a private room's file and its thumbnail, the same answer as for an id that does not exist", async () => {
    const { owner, room } = await roomWith(t, true);
    const { created } = await upload(owner, room.id, await png(40, 40));
    await sendWith(owner, room.id, [created.attachmentId]);
    const outsider = await signUp(t, "Outsider");
    const unknown = await get(outsider, `/api/v1/files/${randomUUID()}`);
    const unknownBody = await unknown.text();
    for (const path of [
      `/api/v1/files/${created.attachmentId}`,
      `/api/v1/files/${created.attachmentId}/thumbnail`,
    ]) {
      const response = await get(outsider, path);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).toBe(unknownBody);
    }
    expect(unknown.status).toBe(404);
    expect((await get(null, `/api/v1/files/${created.attachmentId}`)).status).toBe(401);
  });

  it("an outsider (an admin too) gets 404 for a DM's file; the other member of the DM downloads it", async () => {
    const alice = await signUp(t, "Alice");
    const bob = await signUp(t, "Bob");
    const admin = await signUp(t, "Admin");
    await t.server.deps.db
      .update(schema.users)
      .set({ role: "admin" })
      .where(eq(schema.users.id, admin.user.id));
    const dm = await alice.api.chat.dms.open.mutate({ userIds: [bob.user.id] });
    const { created } = await upload(alice, dm.id, await png(30, 30));
    await sendWith(alice, dm.id, [created.attachmentId]);
    expect((await get(bob, `/api/v1/files/${created.attachmentId}`)).status).toBe(200);
    expect((await get(admin, `/api/v1/files/${created.attachmentId}`)).status).toBe(404);
    expect((await get(admin, `/api/v1/files/${created.attachmentId}/thumbnail`)).status).toBe(404);
  });

  it("an upload not yet sent is the uploader's alone: others get 404 for it, and for its PUT", async () => {
    const { owner, room } = await roomWith(t, false);
    const member = await signUp(t, "Member");
    await member.api.chat.rooms.join.mutate({ roomId: room.id });
    const image = await png(10, 10);
    const created = await owner.api.chat.attachments.create.mutate({
      roomId: room.id,
      name: "a.png",
      size: image.length,
      contentType: "image/png",
    });
    expect((await put(member, created.uploadUrl, image)).status).toBe(404);
    expect((await put(owner, created.uploadUrl, image)).status).toBe(200);
    expect((await put(owner, created.uploadUrl, image)).status).toBe(409);
    expect((await get(owner, `/api/v1/files/${created.attachmentId}`)).status).toBe(200);
    expect((await get(member, `/api/v1/files/${created.attachmentId}`)).status).toBe(404);
  });

  it("an outsider of a private room cannot even ask to upload there (NOT_FOUND); a muted member is FORBIDDEN", async () => {
    const { owner, room } = await roomWith(t, true);
    const outsider = await signUp(t, "Outsider");
    const ask = (account: Account) =>
      account.api.chat.attachments.create.mutate({
        roomId: room.id,
        name: "a.txt",
        size: 5,
        contentType: "text/plain",
      });
    expect(await codeOf(ask(outsider))).toBe("NOT_FOUND");
    const member = await signUp(t, "Member");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
    await owner.api.chat.moderation.mute.mutate({ roomId: room.id, userId: member.user.id });
    expect(await codeOf(ask(member))).toBe("FORBIDDEN");
  });
});

describe("what is refused, and that nothing is stored", () => {
  it("HTML bytes named .png and declared image/png are refused with 415, and nothing is stored", async () => {
    const { owner, room } = await roomWith(t, false);
    const before = await storedFiles();
    const html = Buffer.from(
      "<!doctype html><html><body><script>alert(document.cookie)</script></body></html>",
    );
    const { created, response, body } = await upload(owner, room.id, html, {
      name: "cat.png",
      contentType: "image/png",
    });
    expect(response.status).toBe(415);
    expect(body).toMatchObject({ code: "UNSUPPORTED_MEDIA_TYPE" });
    expect(await storedFiles()).toEqual(before);
    expect((await attachmentRow(created.attachmentId))?.status).toBe("pending");
    expect(await codeOf(sendWith(owner, room.id, [created.attachmentId]))).toBe("BAD_REQUEST");
  });

  it("HTML declared text/plain is kept as text/plain and only ever served as a download, with nosniff and a sandbox CSP", async () => {
    const { owner, room } = await roomWith(t, false);
    const html = Buffer.from("<html><body><script>alert(1)</script></body></html>");
    const { created, body } = await upload(owner, room.id, html, {
      name: "page.html",
      contentType: "text/plain",
    });
    expect(body).toMatchObject({ contentType: "text/plain" });
    await sendWith(owner, room.id, [created.attachmentId]);
    const file = await get(owner, `/api/v1/files/${created.attachmentId}`);
    expect(file.headers.get("content-type")).toBe("text/plain");
    expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="page\.html"/);
    expect(file.headers.get("x-content-type-options")).toBe("nosniff");
    expect(file.headers.get("content-security-policy")).toBe("default-src 'none'; sandbox");
  });

  it("a type that is not allowed (an SVG, declared as an image) is 415", async () => {
    const { owner, room } = await roomWith(t, false);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const { response } = await upload(owner, room.id, svg, { name: "x.svg", contentType: "image/png" });
    expect(response.status).toBe(415);
    const refusal = await rejectionOf(
      owner.api.chat.attachments.create.mutate({
        roomId: room.id,
        name: "x.svg",
        size: svg.length,
        // @ts-expect-error: not an allowed type, as a client without the types might send
        contentType: "image/svg+xml",
      }),
    );
    expect(refusal.code).toBe("BAD_REQUEST");
    expect(refusal.message).toMatch(/contentType/);
  });

  it("a decompression bomb (a tiny PNG of 100,000 × 100,000 pixels) is refused with 415", async () => {
    const { owner, room } = await roomWith(t, false);
    const bomb = await sharp({ create: { width: 100_000, height: 1, channels: 3, background: "black" } })
      .png()
      .toBuffer();
    // The header claims far more than the pixels given: rewrite IHDR's height (offset 20) and its CRC.
    const patched = Buffer.from(bomb);
    patched.writeUInt32BE(100_000, 20);
    const { response } = await upload(owner, room.id, patched, { name: "bomb.png" });
    expect(response.status).toBe(415);
  });

  it("over the size limit: asking is 413 with no row; sending more bytes than announced is 413 and nothing is stored", async () => {
    const { owner, room } = await roomWith(t, false);
    const before = await storedFiles();
    const refusal = await rejectionOf(
      owner.api.chat.attachments.create.mutate({
        roomId: room.id,
        name: "big.pdf",
        size: MAX_BYTES + 1,
        contentType: "application/pdf",
      }),
    );
    expect(refusal.code).toBe("PAYLOAD_TOO_LARGE");
    const rows = await t.server.deps.db
      .select()
      .from(schema.attachments)
      .where(eq(schema.attachments.uploaderId, owner.user.id));
    expect(rows).toEqual([]);

    const text = Buffer.alloc(2000, "a");
    const { created, response, body } = await upload(owner, room.id, text, {
      name: "a.txt",
      contentType: "text/plain",
      size: 1000,
    });
    expect(response.status).toBe(413);
    expect(body).toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(await storedFiles()).toEqual(before);
    expect((await attachmentRow(created.attachmentId))?.status).toBe("pending");
  });

  it("over the quota is FORBIDDEN, naming the quota; stored and pending uploads both count", async () => {
    const { owner, room } = await roomWith(t, false);
    const ask = (size: number) =>
      owner.api.chat.attachments.create.mutate({
        roomId: room.id,
        name: "a.txt",
        size,
        contentType: "text/plain",
      });
    await ask(MAX_BYTES);
    await ask(MAX_BYTES);
    await ask(MAX_BYTES);
    const refusal = await rejectionOf(ask(QUOTA_BYTES - 3 * MAX_BYTES + 1));
    expect(refusal.code).toBe("FORBIDDEN");
    expect(refusal.message).toMatch(/quota/);
    await ask(QUOTA_BYTES - 3 * MAX_BYTES);
  });
});

describe("sending files", () => {
  it("someone else's upload in a send is refused and nothing is linked or sent", async () => {
    const { owner, room } = await roomWith(t, false);
    const other = await signUp(t, "Other");
    await other.api.chat.rooms.join.mutate({ roomId: room.id });
    const { created } = await upload(owner, room.id, await png(8, 8));
    const clientMessageId = randomUUID();
    const refusal = await rejectionOf(
      sendWith(other, room.id, [created.attachmentId], "mine now", clientMessageId),
    );
    expect(refusal.code).toBe("BAD_REQUEST");
    expect(refusal.message).toMatch(/attachmentIds/);
    expect((await attachmentRow(created.attachmentId))?.messageId).toBeNull();
    const sent = await t.server.deps.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.clientMessageId, clientMessageId));
    expect(sent).toEqual([]);
  });

  it("an idempotent retry returns the first message and links nothing twice, also when both attempts race (20 rounds); the same file in another send is refused", async () => {
    const { owner, room } = await roomWith(t, false);
    for (let round = 0; round < 20; round++) {
      const { created } = await upload(owner, room.id, Buffer.from(`note ${round}`), {
        name: "n.txt",
        contentType: "text/plain",
      });
      const clientMessageId = randomUUID();
      const [first, second] = await Promise.all([
        sendWith(owner, room.id, [created.attachmentId], "once", clientMessageId),
        sendWith(owner, room.id, [created.attachmentId], "once", clientMessageId),
      ]);
      const third = await sendWith(owner, room.id, [created.attachmentId], "once", clientMessageId);
      expect(second.id, `round ${round}`).toBe(first.id);
      expect(third).toEqual(first);
      expect((await attachmentRow(created.attachmentId))?.messageId).toBe(first.id);
      expect(await codeOf(sendWith(owner, room.id, [created.attachmentId], "again"))).toBe("BAD_REQUEST");
    }
    const messages = await t.server.deps.db
      .select()
      .from(schema.messages)
      .where(eq(schema.messages.roomId, room.id));
    expect(messages).toHaveLength(20);
  });

  it("a file uploaded to one room cannot be sent in another", async () => {
    const { owner, room } = await roomWith(t, false);
    const other = await owner.api.chat.rooms.create.mutate({ name: "Other", isPrivate: false });
    const { created } = await upload(owner, room.id, await png(8, 8));
    expect(await codeOf(sendWith(owner, other.id, [created.attachmentId]))).toBe("BAD_REQUEST");
  });
});

describe("removal", () => {
  it("deleting a message makes its files 404 at once; the sweeper then removes the blobs and the rows", async () => {
    const { owner, room } = await roomWith(t, false);
    const { created } = await upload(owner, room.id, await png(50, 50));
    const message = await sendWith(owner, room.id, [created.attachmentId]);
    const id = created.attachmentId;
    expect(await storedFiles()).toEqual(expect.arrayContaining([`a/${id}`, `a/${id}.thumb`]));
    await owner.api.chat.messages.delete.mutate({ messageId: message.id });
    expect((await get(owner, `/api/v1/files/${id}`)).status).toBe(404);
    expect((await get(owner, `/api/v1/files/${id}/thumbnail`)).status).toBe(404);
    const history = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(history.items.find((m) => m.id === message.id)?.attachments).toEqual([]);
    await t.server.attachmentSweeper.sweep();
    expect(await storedFiles()).not.toEqual(expect.arrayContaining([`a/${id}`]));
    expect(await storedFiles()).not.toEqual(expect.arrayContaining([`a/${id}.thumb`]));
    expect(await attachmentRow(id)).toBeUndefined();
  });

  it("an upload never sent is removed by the sweeper once UPLOAD_ABANDON_MS has passed (controlled clock), and not before", async () => {
    const { owner, room } = await roomWith(t, false);
    const { created } = await upload(owner, room.id, await png(12, 12));
    const pending = await owner.api.chat.attachments.create.mutate({
      roomId: room.id,
      name: "b.txt",
      size: 3,
      contentType: "text/plain",
    });
    const id = created.attachmentId;
    now += ABANDON_MS - 1_000;
    await t.server.attachmentSweeper.sweep();
    expect(await attachmentRow(id)).toBeDefined();
    expect(await storedFiles()).toEqual(expect.arrayContaining([`a/${id}`]));
    now += 2_000;
    await t.server.attachmentSweeper.sweep();
    expect(await attachmentRow(id)).toBeUndefined();
    expect(await attachmentRow(pending.attachmentId)).toBeUndefined();
    expect(await storedFiles()).not.toEqual(expect.arrayContaining([`a/${id}`]));
    expect((await get(owner, `/api/v1/files/${id}`)).status).toBe(404);
    // Its PUT is too late as well.
    expect((await put(owner, pending.uploadUrl, Buffer.from("abc"))).status).toBe(404);
  });
});
