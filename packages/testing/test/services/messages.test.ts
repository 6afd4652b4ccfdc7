// Services called directly on in-memory PGlite, beside the black-box suite in apps/server/test.
import { randomUUID } from "node:crypto";
import { DomainError, messagesService, roomsService } from "@parley/core";
import { schema } from "@parley/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type Person, serviceDepsForFile } from "../../src/service-deps.ts";

const { deleteMessage, editMessage, listMessages, sendMessage } = messagesService;
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
});
