import { randomUUID } from "node:crypto";
import { type Database, schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { must, send, signUp } from "@parley/testing/chat-fixtures";
import { and, asc, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// chat.messages.list, chat.messages.send and session validation run as prepared SQL statements
// (no Drizzle query builder) and their outputs skip superjson. These tests hold them to what the
// Drizzle version returned, value for value and key for key.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** The history page as the Drizzle implementation built it (toView + one reactions query). */
async function referencePage(
  db: Database,
  callerId: string,
  input: { roomId: string; before?: number; after?: number; limit?: number },
) {
  const limit = input.limit ?? 50;
  const m = schema.messages;
  const forward = input.after !== undefined;
  const rows = await db
    .select({ message: m, authorName: schema.users.displayName })
    .from(m)
    .innerJoin(schema.users, eq(schema.users.id, m.userId))
    .where(
      and(
        eq(m.roomId, input.roomId),
        // The room's timeline: thread replies are listed by chat.threads.list.
        isNull(m.parentId),
        input.before !== undefined ? lt(m.seq, input.before) : undefined,
        input.after !== undefined ? gt(m.seq, input.after) : undefined,
      ),
    )
    .orderBy(forward ? asc(m.seq) : desc(m.seq))
    .limit(limit + 1);
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (forward) page.reverse();
  const ids = page.map((r) => r.message.id);
  const reactionRows =
    ids.length === 0
      ? []
      : await db
          .select({
            messageId: schema.reactions.messageId,
            emoji: schema.reactions.emoji,
            count: sql<number>`count(*)::int`,
            mine: sql<boolean>`bool_or(${schema.reactions.userId} = ${callerId})`,
          })
          .from(schema.reactions)
          .where(inArray(schema.reactions.messageId, ids))
          .groupBy(schema.reactions.messageId, schema.reactions.emoji)
          .orderBy(asc(schema.reactions.emoji));
  const byMessage = new Map<string, { emoji: string; count: number; mine: boolean }[]>();
  for (const { messageId, ...reaction } of reactionRows) {
    byMessage.set(messageId, [...(byMessage.get(messageId) ?? []), reaction]);
  }
  const items = page.map(({ message: row, authorName }) => ({
    id: row.id,
    roomId: row.roomId,
    seq: row.seq,
    userId: row.userId,
    authorName,
    content: row.deletedAt !== null ? null : row.content,
    clientMessageId: row.clientMessageId,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
    deletedAt: row.deletedAt?.toISOString() ?? null,
    parentId: row.parentId,
    replyCount: row.replyCount,
    lastReplyAt: row.lastReplyAt?.toISOString() ?? null,
    mentions: row.mentions,
    mentionsRoom: row.mentionsRoom,
    attachments: row.deletedAt !== null ? [] : row.attachments,
    reactions: byMessage.get(row.id) ?? [],
  }));
  return { items, hasMore: more };
}

/** The raw HTTP body of a GET query, as the bench and non-TypeScript callers see it. */
async function rawQuery(path: string, input: unknown, token: string) {
  const url = `${t.url}/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: await response.text() };
}

describe("chat.messages.list as one statement", () => {
  it("returns exactly the Drizzle page (values, key order, reactions, tombstones) in every direction", async () => {
    const owner = await signUp(t, 'Owner ‘quoted’ " \\ name');
    const bob = await signUp(t, "Bob");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Equivalence", isPrivate: false });
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const sent = [];
    for (let i = 0; i < 23; i++) {
      const api = i % 3 === 0 ? bob.api : owner.api;
      sent.push(await send(api, room.id, `message ${i} "quotes" \\ \u2028 <b>é 😀</b>`));
    }
    const [a, b, c, d] = [must(sent[2]), must(sent[5]), must(sent[9]), must(sent[20])];
    await owner.api.chat.messages.edit.mutate({ messageId: a.id, content: "edited text" });
    await owner.api.chat.messages.delete.mutate({ messageId: b.id });
    for (const emoji of ["👍", "🎉", "❤️", "🔥", "😀"]) {
      await owner.api.chat.messages.react.mutate({ messageId: c.id, emoji });
    }
    // Straight into the table: texts whose order depends on the collation.
    await t.server.deps.db
      .insert(schema.reactions)
      .values(["a", "Z", "é", "B"].map((emoji) => ({ messageId: c.id, userId: bob.user.id, emoji })));
    await bob.api.chat.messages.react.mutate({ messageId: c.id, emoji: "👍" });
    await bob.api.chat.messages.react.mutate({ messageId: d.id, emoji: "🎉" });
    // Replies: not in the room's pages, counted on their root.
    for (const content of ["first reply", "second reply"]) {
      await bob.api.chat.messages.send.mutate({
        roomId: room.id,
        content,
        clientMessageId: randomUUID(),
        parentId: d.id,
      });
    }
    // Microseconds in the stored times: the page must truncate them exactly as a JS Date does.
    await t.server.deps.db.execute(
      sql`update messages set created_at = created_at + (random() * interval '1 second') where room_id = ${room.id}`,
    );
    await t.server.deps.db.execute(
      sql`update messages set edited_at = edited_at + interval '0.000999 seconds' where id = ${a.id}`,
    );

    const inputs = [
      { roomId: room.id },
      { roomId: room.id, limit: 5 },
      { roomId: room.id, limit: 100 },
      { roomId: room.id, limit: 7, before: must(sent[15]).seq },
      { roomId: room.id, limit: 7, before: 1 },
      { roomId: room.id, limit: 7, after: must(sent[3]).seq },
      { roomId: room.id, limit: 100, after: 0 },
      { roomId: room.id, after: must(sent.at(-1)).seq },
    ];
    for (const caller of [owner, bob]) {
      for (const input of inputs) {
        const expected = await referencePage(t.server.deps.db, caller.user.id, input);
        const got = await caller.api.chat.messages.list.query(input);
        expect(got).toEqual(expected);
        // Byte for byte on the wire: superjson's form of a value without Dates is `{ json: value }`
        // (packages/api/src/wire-encoding.test.ts checks that equivalence).
        const raw = await rawQuery("chat.messages.list", input, caller.token);
        expect(raw.status).toBe(200);
        expect(raw.body).toBe(JSON.stringify({ result: { data: { json: expected } } }));
      }
    }
  });

  it("reads mentions, attachments and a seq past 2^32 as the Drizzle page does; a readable room without messages is an empty page", async () => {
    const owner = await signUp(t, "Columns");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Columns", isPrivate: false });
    expect(await owner.api.chat.messages.list.query({ roomId: room.id })).toEqual({
      items: [],
      hasMore: false,
    });
    const [first, second] = [await send(owner.api, room.id, "one"), await send(owner.api, room.id, "two")];
    const files = [
      {
        id: randomUUID(),
        name: 'a "file".png',
        contentType: "image/png",
        size: 1234,
        width: 640,
        height: 480,
        url: "/api/v1/files/x",
        thumbnailUrl: null,
      },
    ];
    // Straight into the table: the page's rows are the view's columns, each read by the driver.
    await t.server.deps.db
      .update(schema.messages)
      .set({ mentions: [owner.user.id, "someone-else"], mentionsRoom: true, attachments: files })
      .where(eq(schema.messages.id, first.id));
    await t.server.deps.db
      .update(schema.messages)
      .set({ seq: 2 ** 40 + 3 })
      .where(eq(schema.messages.id, second.id));
    for (const input of [{ roomId: room.id }, { roomId: room.id, after: 0 }, { roomId: room.id, limit: 1 }]) {
      const expected = await referencePage(t.server.deps.db, owner.user.id, input);
      expect(await owner.api.chat.messages.list.query(input)).toEqual(expected);
      const raw = await rawQuery("chat.messages.list", input, owner.token);
      expect(raw.body).toBe(JSON.stringify({ result: { data: { json: expected } } }));
    }
    expect((await owner.api.chat.messages.list.query({ roomId: room.id })).items.map((m) => m.seq)).toEqual([
      2 ** 40 + 3,
      first.seq,
    ]);
  });

  it("keeps readableRoom's rules: unknown and foreign private rooms are NOT_FOUND, admins may read", async () => {
    const owner = await signUp(t, "Owner");
    const outsider = await signUp(t, "Outsider");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Secret", isPrivate: true });
    await send(owner.api, room.id, "hidden");
    const unknown = await rawQuery("chat.messages.list", { roomId: randomUUID() }, outsider.token);
    const foreign = await rawQuery("chat.messages.list", { roomId: room.id }, outsider.token);
    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(JSON.parse(foreign.body).error.json.message).toBe(JSON.parse(unknown.body).error.json.message);
    await t.server.deps.db
      .update(schema.users)
      .set({ role: "admin" })
      .where(eq(schema.users.id, outsider.user.id));
    expect((await outsider.api.chat.messages.list.query({ roomId: room.id })).items).toHaveLength(1);
  });
});

describe("chat.messages.send as one statement", () => {
  it("stores the message and its message.created event with the same view, under the next seq", async () => {
    const owner = await signUp(t, "Sender");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Send", isPrivate: false });
    const message = await send(owner.api, room.id, "first words");
    expect(message.seq).toBe(room.lastSeq + 1);
    const [event] = await t.server.deps.db
      .select()
      .from(schema.roomEvents)
      .where(and(eq(schema.roomEvents.roomId, room.id), eq(schema.roomEvents.seq, message.seq)));
    expect(event).toMatchObject({ type: "message.created", messageId: message.id, actorId: owner.user.id });
    expect(event?.payload).toEqual({ type: "message.created", roomId: room.id, seq: message.seq, message });
    const [stored] = await t.server.deps.db
      .select({ lastSeq: schema.rooms.lastSeq })
      .from(schema.rooms)
      .where(eq(schema.rooms.id, room.id));
    expect(stored?.lastSeq).toBe(message.seq);
    const page = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(page.items[0]).toEqual({ ...message, reactions: [] });
  });

  it("a retried clientMessageId returns the first message (edited or deleted as it now is), using no seq", async () => {
    const owner = await signUp(t, "Retry");
    const room = await owner.api.chat.rooms.create.mutate({ name: "Retry", isPrivate: false });
    const clientMessageId = randomUUID();
    const first = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "once",
      clientMessageId,
    });
    const racing = await Promise.all(
      Array.from({ length: 5 }, () =>
        owner.api.chat.messages.send.mutate({ roomId: room.id, content: "once", clientMessageId }),
      ),
    );
    for (const again of racing) expect(again).toEqual(first);
    await owner.api.chat.messages.delete.mutate({ messageId: first.id });
    const afterDelete = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "once",
      clientMessageId,
    });
    expect(afterDelete).toMatchObject({ id: first.id, seq: first.seq, content: null });
    expect(afterDelete.deletedAt).toEqual(expect.any(String));
    const next = await send(owner.api, room.id, "next");
    // first's seq, the delete event's seq, then this one: the retries took none.
    expect(next.seq).toBe(first.seq + 2);
  });
});

describe("session validation as one statement", () => {
  it("extends a session past half its life (lucia's rule), re-setting the cookie", async () => {
    const browser = t.cookieClient();
    const email = uniqueEmail();
    await browser.api.auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "C" });
    const token = must(browser.cookie());
    const nearEnd = new Date(Date.now() + 60_000);
    await t.server.deps.db
      .update(schema.sessions)
      .set({ expiresAt: nearEnd })
      .where(eq(schema.sessions.id, token));
    const response = await fetch(`${t.url}/trpc/auth.me`, {
      headers: { cookie: `parley_session=${token}`, origin: t.url },
    });
    expect(JSON.parse(await response.text()).result.data.json).toMatchObject({ email, displayName: "C" });
    expect(response.headers.get("set-cookie")).toContain(`parley_session=${token}`);
    const [row] = await t.server.deps.db.select().from(schema.sessions).where(eq(schema.sessions.id, token));
    expect(must(row).expiresAt.getTime()).toBeGreaterThan(Date.now() + 24 * 3600_000);
    // Not due any more: no cookie this time.
    const again = await fetch(`${t.url}/trpc/auth.me`, {
      headers: { cookie: `parley_session=${token}`, origin: t.url },
    });
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("deletes an expired session and treats its holder as signed out", async () => {
    const { token } = await signUp(t, "Expired");
    await t.server.deps.db
      .update(schema.sessions)
      .set({ expiresAt: new Date(Date.now() - 1_000) })
      .where(eq(schema.sessions.id, token));
    expect(await t.client(token).auth.me.query()).toBeNull();
    const rows = await t.server.deps.db.select().from(schema.sessions).where(eq(schema.sessions.id, token));
    expect(rows).toHaveLength(0);
  });

  it("returns the user's current attributes with Dates, as lucia did", async () => {
    const account = await signUp(t, "Attributes");
    const me = must(await account.api.auth.me.query());
    expect(me.createdAt).toBeInstanceOf(Date);
    expect(me).toEqual(account.user);
    await t.server.deps.db
      .update(schema.users)
      .set({ role: "admin", emailVerified: true })
      .where(eq(schema.users.id, account.user.id));
    // Read from the database on every request: no stale role or verification.
    expect(await account.api.auth.me.query()).toMatchObject({ role: "admin", emailVerified: true });
  });
});
