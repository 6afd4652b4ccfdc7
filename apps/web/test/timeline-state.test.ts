import type { MessageView, RoomEvent } from "@parley/client";
import { describe, expect, it } from "vitest";
import {
  emptyLiveState,
  type ListedMessage,
  liveReducer,
  mergeTimeline,
  newestSeq,
} from "../src/room/timeline-state.ts";

const message = (seq: number, content = `m${seq}`): MessageView => ({
  id: `id-${seq}`,
  roomId: "r",
  seq,
  userId: "u",
  authorName: "Ada",
  content,
  clientMessageId: `c${seq}`,
  createdAt: new Date(seq * 1000).toISOString(),
  editedAt: null,
  deletedAt: null,
  parentId: null,
  replyCount: 0,
  lastReplyAt: null,
  mentions: [],
  mentionsRoom: false,
  attachments: [],
});
const listed = (seq: number, content?: string): ListedMessage => ({
  ...message(seq, content),
  reactions: [],
});
const created = (seq: number): RoomEvent => ({
  type: "message.created",
  roomId: "r",
  seq,
  message: message(seq),
});

describe("the room timeline", () => {
  it("shows a message once when a replay overlaps the history page and the sender's own copy", () => {
    let live = liveReducer(emptyLiveState, { type: "sent", message: message(3) });
    for (const event of [created(2), created(3), created(3), created(4)])
      live = liveReducer(live, { type: "event", event });
    const timeline = mergeTimeline([[listed(3), listed(2), listed(1)]], live);
    expect(timeline.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it("applies an edit and then a deletion, whatever was read before", () => {
    let live = emptyLiveState;
    const edit: RoomEvent = {
      type: "message.updated",
      roomId: "r",
      seq: 5,
      messageId: "id-1",
      userId: "u",
      content: "edited",
      editedAt: new Date(5000).toISOString(),
    };
    live = liveReducer(live, { type: "event", event: edit });
    expect(mergeTimeline([[listed(1)]], live)[0]).toMatchObject({ content: "edited" });
    const deletion: RoomEvent = {
      type: "message.deleted",
      roomId: "r",
      seq: 6,
      messageId: "id-1",
      userId: "u",
      deletedAt: new Date(6000).toISOString(),
    };
    live = liveReducer(live, { type: "event", event: deletion });
    live = liveReducer(live, { type: "event", event: deletion });
    expect(mergeTimeline([[listed(1)]], live)[0]).toMatchObject({ content: null });
  });

  it("takes reaction counts from the latest read, not by adding up events", () => {
    const live = liveReducer(emptyLiveState, {
      type: "reactions",
      messageId: "id-1",
      reactions: [{ emoji: "🎉", count: 2, mine: true }],
    });
    expect(mergeTimeline([[listed(1)]], live)[0]?.reactions).toEqual([{ emoji: "🎉", count: 2, mine: true }]);
  });

  it("keeps thread replies out of the room's list and in their thread's, with the root's live counters", () => {
    const reply: MessageView = { ...message(3, "a reply"), id: "reply-3", parentId: "id-1" };
    let live = liveReducer(emptyLiveState, {
      type: "event",
      event: { type: "message.created", roomId: "r", seq: 3, message: reply },
    });
    const counters: RoomEvent = {
      type: "thread.updated",
      roomId: "r",
      seq: 4,
      threadId: "id-1",
      replyCount: 1,
      lastReplyAt: reply.createdAt,
    };
    live = liveReducer(live, { type: "event", event: counters });
    live = liveReducer(live, { type: "sent", message: reply });
    const room = mergeTimeline([[listed(2), listed(1)]], live);
    expect(room.map((m) => m.id)).toEqual(["id-1", "id-2"]);
    expect(room[0]).toMatchObject({ replyCount: 1, lastReplyAt: reply.createdAt });
    // The thread's page already held the reply: it is listed once.
    const thread = mergeTimeline([[{ ...reply, reactions: [] }]], live, "id-1");
    expect(thread.map((m) => m.content)).toEqual(["a reply"]);
    // A reply moves the room's read marker too: it counts as unread there.
    expect(newestSeq(room, live)).toBe(3);
  });
});
