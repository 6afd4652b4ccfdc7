// Services called directly on in-memory PGlite, beside the black-box suite in apps/server/test.
import { randomUUID } from "node:crypto";
import { DomainError, messagesService, roomsService } from "@parley/core";
import { schema } from "@parley/db";
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type Person, serviceDepsForFile } from "../../src/service-deps.ts";

const { deleteMessage, editMessage, listMessages, searchMessages, sendMessage } = messagesService;
const { createRoom, joinRoom } = roomsService;

const deps = await serviceDepsForFile();

/** An owner and a member of a fresh public room. */
async function roomOfTwo() {
  const ada = await deps.person("Ada");
  const bob = await deps.person("Bob");
  const room = await createRoom(deps, ada, { name: "Talk", isPrivate: false });
  await joinRoom(deps, bob, room.id);
  return { ada, bob, roomId: room.id };
}

const send = (caller: Person, roomId: string, content: string) =>
  sendMessage(deps, caller, { roomId, content, clientMessageId: randomUUID() });

const storedIn = (roomId: string) =>
  deps.db.select().from(schema.messages).where(eq(schema.messages.roomId, roomId));

describe("messages service", () => {
  it("sendMessage is idempotent by clientMessageId: a retry returns the first message and stores nothing more", async () => {
    const { ada, roomId } = await roomOfTwo();
    const clientMessageId = randomUUID();
    const first = await sendMessage(deps, ada, { roomId, content: "hello", clientMessageId });
    const retry = await sendMessage(deps, ada, { roomId, content: "hello", clientMessageId });
    expect(retry).toEqual(first);
    expect(await storedIn(roomId)).toHaveLength(1);
  });

  it("editMessage changes the content at the clock's time, for the author only", async () => {
    const { ada, bob, roomId } = await roomOfTwo();
    const message = await send(ada, roomId, "first draft");
    deps.advance(60_000);
    const edited = await editMessage(deps, ada, { messageId: message.id, content: "final words" });
    expect(edited).toEqual({ id: message.id, content: "final words", editedAt: deps.clock().toISOString() });

    const refused = editMessage(deps, bob, { messageId: message.id, content: "not mine" });
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ kind: "forbidden" });
    const page = await listMessages(deps, bob, { roomId });
    expect(page.items.map((m) => m.content)).toEqual(["final words"]);
  });

  it("deleteMessage leaves a tombstone in history: no content, the time of deletion, its seq kept", async () => {
    const { ada, bob, roomId } = await roomOfTwo();
    const kept = await send(ada, roomId, "stays");
    const gone = await send(ada, roomId, "goes");
    deps.advance(1_000);
    expect(await deleteMessage(deps, ada, gone.id)).toEqual({ id: gone.id });
    const { items } = await listMessages(deps, bob, { roomId });
    expect(items.map(({ seq, content, deletedAt }) => ({ seq, content, deletedAt }))).toEqual([
      { seq: gone.seq, content: null, deletedAt: deps.clock().toISOString() },
      { seq: kept.seq, content: "stays", deletedAt: null },
    ]);
    await expect(editMessage(deps, ada, { messageId: gone.id, content: "back" })).rejects.toMatchObject({
      kind: "not-found",
    });
  });

  it("listMessages pages back with `before` and forward with `after`, each message once, no gaps", async () => {
    const { ada, bob, roomId } = await roomOfTwo();
    const seqs: number[] = [];
    for (let i = 1; i <= 5; i++) seqs.push((await send(i % 2 ? ada : bob, roomId, `message ${i}`)).seq);

    const newest = await listMessages(deps, bob, { roomId, limit: 2 });
    const middle = await listMessages(deps, bob, { roomId, limit: 2, before: newest.items.at(-1)?.seq });
    const oldest = await listMessages(deps, bob, { roomId, limit: 2, before: middle.items.at(-1)?.seq });
    expect([newest, middle, oldest].map((page) => page.items.map((m) => m.seq))).toEqual([
      [seqs[4], seqs[3]],
      [seqs[2], seqs[1]],
      [seqs[0]],
    ]);
    expect([newest.hasMore, middle.hasMore, oldest.hasMore]).toEqual([true, true, false]);

    const forward = await listMessages(deps, bob, { roomId, limit: 2, after: seqs[0] });
    expect(forward.items.map((m) => m.seq)).toEqual([seqs[2], seqs[1]]);
    expect(forward.hasMore).toBe(true);
  });

  it("the message view's JSON is byte-exact (key order included) in send, retry, message.created, history and search", async () => {
    const ada = await deps.person('Ada "the" ‘first’ \\');
    const bob = await deps.person("Bob");
    const { id: roomId } = await createRoom(deps, ada, { name: "Bytes", isPrivate: false });
    await joinRoom(deps, bob, roomId);
    const live: string[] = [];
    const unsubscribe = deps.bus.subscribe(`room:${roomId}`, (event) => live.push(JSON.stringify(event)));
    const content = 'words "quoted" \\ \u2028 <b>é 😀</b>';
    const sent = await sendMessage(deps, ada, { roomId, content, clientMessageId: "bytes-1" });
    const gone = await sendMessage(deps, bob, { roomId, content: "goes", clientMessageId: "bytes-2" });
    unsubscribe();
    const [stored] = await deps.db
      .select({ payload: schema.roomEvents.payload })
      .from(schema.roomEvents)
      .where(and(eq(schema.roomEvents.roomId, roomId), eq(schema.roomEvents.seq, sent.seq)));
    // Microseconds in the stored times: the views truncate them as a JS Date does.
    await deps.db.execute(
      sql`update messages set created_at = '2030-01-01 12:34:56.789999+00' where room_id = ${roomId}`,
    );
    deps.advance(1_000);
    const editedAt = deps.clock().toISOString();
    await editMessage(deps, ada, { messageId: sent.id, content: `${content} (edited)` });
    deps.advance(1_000);
    const deletedAt = deps.clock().toISOString();
    await deleteMessage(deps, bob, gone.id);
    const retry = await sendMessage(deps, ada, { roomId, content, clientMessageId: "bytes-1" });
    const page = await listMessages(deps, bob, { roomId });
    const found = await searchMessages(deps, bob, { query: "quoted", roomId });
    // Written out key by key: this is the order every path must keep (and PostgreSQL's jsonb order
    // for the stored event, which replays read).
    const view = (m: {
      id: string;
      seq: number;
      userId: string;
      authorName: string;
      content: string | null;
      clientMessageId: string;
      createdAt: string;
      editedAt: string | null;
      deletedAt: string | null;
    }) =>
      `{"id":"${m.id}","roomId":"${roomId}","seq":${m.seq},"userId":"${m.userId}",` +
      `"authorName":${JSON.stringify(m.authorName)},"content":${JSON.stringify(m.content)},` +
      `"clientMessageId":"${m.clientMessageId}","createdAt":"${m.createdAt}",` +
      `"editedAt":${JSON.stringify(m.editedAt)},"deletedAt":${JSON.stringify(m.deletedAt)},` +
      `"parentId":null,"replyCount":0,"lastReplyAt":null,"mentions":[],"mentionsRoom":false,"attachments":[]}`;
    const adaView = { id: sent.id, seq: sent.seq, userId: ada.id, authorName: ada.displayName };
    const sentJson = view({
      ...adaView,
      content,
      clientMessageId: "bytes-1",
      createdAt: sent.createdAt,
      editedAt: null,
      deletedAt: null,
    });
    expect(JSON.stringify(sent)).toBe(sentJson);
    expect(live[0]).toBe(
      `{"type":"message.created","roomId":"${roomId}","seq":${sent.seq},"message":${sentJson}}`,
    );
    expect(JSON.stringify(stored?.payload)).toBe(
      `{"seq":${sent.seq},"type":"message.created","roomId":"${roomId}","message":{"id":"${sent.id}",` +
        `"seq":${sent.seq},"roomId":"${roomId}","userId":"${ada.id}","content":${JSON.stringify(content)},` +
        `"editedAt":null,"mentions":[],"parentId":null,"createdAt":"${sent.createdAt}","deletedAt":null,` +
        `"authorName":${JSON.stringify(ada.displayName)},"replyCount":0,"attachments":[],"lastReplyAt":null,` +
        `"mentionsRoom":false,"clientMessageId":"bytes-1"}}`,
    );
    const editedJson = view({
      ...adaView,
      content: `${content} (edited)`,
      clientMessageId: "bytes-1",
      createdAt: "2030-01-01T12:34:56.789Z",
      editedAt,
      deletedAt: null,
    });
    expect(JSON.stringify(retry)).toBe(editedJson);
    const goneJson = view({
      id: gone.id,
      seq: gone.seq,
      userId: bob.id,
      authorName: "Bob",
      content: null,
      clientMessageId: "bytes-2",
      createdAt: "2030-01-01T12:34:56.789Z",
      editedAt: null,
      deletedAt,
    });
    const withReactions = (json: string) => `${json.slice(0, -1)},"reactions":[]}`;
    expect(JSON.stringify(page)).toBe(
      `{"items":[${withReactions(goneJson)},${withReactions(editedJson)}],"hasMore":false}`,
    );
    expect(JSON.stringify(found)).toBe(
      `{"items":[${editedJson.slice(0, -1)},"roomName":"Bytes"}],"nextCursor":null}`,
    );
  });
});
