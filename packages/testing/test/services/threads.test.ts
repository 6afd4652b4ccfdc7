// The threads service on in-memory PGlite (the embedded mode): the reply's transaction, its row
// locks and the thread page statement run there too.
import { randomUUID } from "node:crypto";
import { messagesService, roomsService, threadsService } from "@parley/core";
import { describe, expect, it } from "vitest";
import { type Person, serviceDepsForFile } from "../../src/service-deps.ts";

const { deleteMessage, listMessages, sendMessage } = messagesService;
const { createRoom, joinRoom } = roomsService;
const { followedThreads, listThread, markThreadRead } = threadsService;

const deps = await serviceDepsForFile();

const send = (caller: Person, roomId: string, content: string, parentId?: string) =>
  sendMessage(deps, caller, { roomId, content, clientMessageId: randomUUID(), parentId });

describe("threads service", () => {
  it("replies, counters, the thread page, follows and unread counts, and a deleted reply uncounted", async () => {
    const ada = await deps.person("Ada");
    const bob = await deps.person("Bob");
    const room = await createRoom(deps, ada, { name: "Talk", isPrivate: false });
    await joinRoom(deps, bob, room.id);
    const root = await send(ada, room.id, "root");
    const one = await send(bob, room.id, "one", root.id);
    const two = await send(bob, room.id, "two", one.id);
    expect(two.parentId).toBe(root.id);

    const history = await listMessages(deps, ada, { roomId: room.id });
    expect(history.items.map((m) => [m.id, m.replyCount, m.lastReplyAt])).toEqual([
      [root.id, 2, two.createdAt],
    ]);
    const thread = await listThread(deps, ada, { threadId: root.id });
    expect(thread.root).toMatchObject({ id: root.id, replyCount: 2 });
    expect(thread.items.map((m) => m.content)).toEqual(["two", "one"]);

    expect((await followedThreads(deps, ada)).items).toMatchObject([{ threadId: root.id, unreadCount: 2 }]);
    expect(await markThreadRead(deps, ada, { threadId: root.id, seq: one.seq })).toEqual({
      following: true,
      lastReadSeq: one.seq,
    });
    await deleteMessage(deps, bob, two.id);
    expect((await followedThreads(deps, ada)).items).toMatchObject([
      { threadId: root.id, unreadCount: 0, replyCount: 1, lastReplyAt: one.createdAt },
    ]);
  });
});
