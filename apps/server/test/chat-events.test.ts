import { createParleyClient, type RoomEvent } from "@parley/client";
import { roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { collectPresence, collectRoomEvents } from "@parley/testing/event-collector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const types = (events: RoomEvent[]) => events.map((e) => e.type);

function expectConsecutive(events: RoomEvent[]) {
  for (let i = 1; i < events.length; i++) expect(events[i]?.seq).toBe((events[i - 1]?.seq ?? 0) + 1);
}

describe("chat.events", () => {
  it("delivers every kind of room change live, in seq order", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    const live = collectRoomEvents(owner.api, room.id, String(room.lastSeq));
    await live.started();

    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const message = await bob.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "hi",
      clientMessageId: "m1",
    });
    await bob.api.chat.messages.edit.mutate({ messageId: message.id, content: "hello" });
    await owner.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" });
    await owner.api.chat.messages.unreact.mutate({ messageId: message.id, emoji: "👍" });
    await bob.api.chat.messages.delete.mutate({ messageId: message.id });
    await bob.api.chat.rooms.leave.mutate({ roomId: room.id });
    await owner.api.chat.rooms.update.mutate({ roomId: room.id, name: "Renamed" });

    await live.until(() => live.items.length === 8);
    expect(types(live.items)).toEqual([
      "member.joined",
      "message.created",
      "message.updated",
      "reaction.added",
      "reaction.removed",
      "message.deleted",
      "member.left",
      "room.updated",
    ]);
    expectConsecutive(live.items);
    expect(live.items[1]).toMatchObject({ message: { content: "hi", authorName: "Bob" } });
    expect(live.items[2]).toMatchObject({ messageId: message.id, content: "hello" });
    expect(live.lastId()).toBe(String(live.items.at(-1)?.seq));
    live.unsubscribe();
  });

  it("replays missed edits, deletes and reactions on resume with lastEventId, then goes live", async () => {
    const { owner, room } = await roomWith(t, false);
    const kept = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "keep",
      clientMessageId: "k",
    });
    const gone = await owner.api.chat.messages.send.mutate({
      roomId: room.id,
      content: "gone",
      clientMessageId: "g",
    });
    const first = collectRoomEvents(owner.api, room.id, "0");
    await first.until(() => first.items.length === 3);
    const resumeFrom = first.lastId();
    first.unsubscribe();

    await owner.api.chat.messages.edit.mutate({ messageId: kept.id, content: "kept, edited" });
    await owner.api.chat.messages.react.mutate({ messageId: kept.id, emoji: "🎉" });
    await owner.api.chat.messages.delete.mutate({ messageId: gone.id });

    const resumed = collectRoomEvents(owner.api, room.id, resumeFrom);
    await resumed.until(() => resumed.items.length === 3);
    expect(types(resumed.items)).toEqual(["message.updated", "reaction.added", "message.deleted"]);
    expect(resumed.items[0]?.seq).toBe(Number(resumeFrom) + 1);

    await owner.api.chat.messages.send.mutate({ roomId: room.id, content: "after", clientMessageId: "a" });
    await resumed.until(() => resumed.items.length === 4);
    expect(resumed.items[3]).toMatchObject({ type: "message.created", message: { content: "after" } });
    expectConsecutive(resumed.items);
    resumed.unsubscribe();
  });

  it("without lastEventId starts from now: nothing earlier is replayed", async () => {
    const { owner, room } = await roomWith(t, false);
    await owner.api.chat.messages.send.mutate({ roomId: room.id, content: "before", clientMessageId: "b" });
    const live = collectRoomEvents(owner.api, room.id);
    await live.started();
    await owner.api.chat.messages.send.mutate({ roomId: room.id, content: "now", clientMessageId: "n" });
    await live.until(() => live.items.length === 1);
    expect(live.items[0]).toMatchObject({ type: "message.created", message: { content: "now" } });
    live.unsubscribe();
  });

  it("refuses outsiders of a private room with NOT_FOUND, anonymous callers with UNAUTHORIZED, bad ids with BAD_REQUEST", async () => {
    const { room } = await roomWith(t, true);
    const outsider = await signUp(t, "Outsider");
    const cases: [ReturnType<typeof collectRoomEvents>, string][] = [
      [collectRoomEvents(outsider.api, room.id, "0"), "NOT_FOUND"],
      [collectRoomEvents(outsider.api, "00000000-0000-4000-8000-000000000000"), "NOT_FOUND"],
      [collectRoomEvents(t.client(), room.id), "UNAUTHORIZED"],
      [collectRoomEvents(outsider.api, "not-a-uuid"), "BAD_REQUEST"],
      [collectRoomEvents(outsider.api, room.id, "-1"), "BAD_REQUEST"],
    ];
    for (const [subscription, code] of cases) {
      await subscription.until(() => subscription.error() !== undefined);
      expect(subscription.error()?.data?.code).toBe(code);
      expect(subscription.items).toEqual([]);
    }
    const [privateMiss, nonexistent] = cases;
    expect(privateMiss?.[0].error()?.message).toBe(nonexistent?.[0].error()?.message);
  });

  it("refuses a lastEventId past the room's newest event with BAD_REQUEST naming that seq; at the newest it streams what follows", async () => {
    const { owner, room } = await roomWith(t, false);
    const ahead = collectRoomEvents(owner.api, room.id, String(room.lastSeq + 5));
    await ahead.until(() => ahead.error() !== undefined);
    expect(ahead.error()?.data?.code).toBe("BAD_REQUEST");
    expect(ahead.error()?.message).toBe(
      `lastEventId: ${room.lastSeq + 5} is past this room's newest event (${room.lastSeq})`,
    );
    expect(ahead.items).toEqual([]);

    // Access is decided first: an outsider learns nothing of a private room's seq.
    const { room: secret } = await roomWith(t, true);
    const probe = collectRoomEvents(owner.api, secret.id, "1000");
    await probe.until(() => probe.error() !== undefined);
    expect(probe.error()?.data?.code).toBe("NOT_FOUND");

    const atNewest = collectRoomEvents(owner.api, room.id, String(room.lastSeq));
    await atNewest.started();
    const message = await send(owner.api, room.id, "next");
    await atNewest.until(() => atNewest.items.length === 1);
    expect(atNewest.items[0]).toMatchObject({ type: "message.created", seq: message.seq });
    atNewest.unsubscribe();
  });

  it("a client resuming on an instance whose room stream is behind it gets each later event once", async () => {
    // A second instance on the same database with its own in-process bus: it hears nothing
    // the first publishes, as when a Redis publish is lost, and fills the gap from room_events
    // when its own next event shows one.
    await using other = await startTestServer({ databaseUrl: t.databaseUrl });
    const { owner, room } = await roomWith(t, false);
    const ownerOnOther = other.client(owner.token);
    const watcher = collectRoomEvents(ownerOnOther, room.id, String(room.lastSeq));
    await watcher.started();
    const missed = await send(owner.api, room.id, "sent on the first instance");
    // A client that received `missed` from the first instance resumes on the second, whose
    // stream has not seen it yet.
    const resumed = collectRoomEvents(ownerOnOther, room.id, String(missed.seq));
    await resumed.started();
    const next = await send(ownerOnOther, room.id, "sent on the second instance");
    await watcher.until(() => watcher.items.some((e) => e.seq === next.seq));
    await resumed.until(() => resumed.items.some((e) => e.seq === next.seq));
    expect(watcher.items.map((e) => e.seq)).toEqual([missed.seq, next.seq]);
    expect(resumed.items.map((e) => e.seq)).toEqual([next.seq]);
    watcher.unsubscribe();
    resumed.unsubscribe();
  });

  it("ends a non-member's subscription with FORBIDDEN when the room turns private: nothing after the change reaches them", async () => {
    const { owner, room } = await roomWith(t, false);
    const outsider = await signUp(t, "Outsider");
    const theirs = collectRoomEvents(outsider.api, room.id);
    const ours = collectRoomEvents(owner.api, room.id);
    await Promise.all([theirs.started(), ours.started()]);
    await owner.api.chat.rooms.update.mutate({ roomId: room.id, isPrivate: true });
    const secret = await send(owner.api, room.id, "secret");
    await theirs.until(() => theirs.error() !== undefined);
    await ours.until(() => ours.items.some((e) => e.seq === secret.seq));
    expect(theirs.error()?.data?.code).toBe("FORBIDDEN");
    expect(types(theirs.items)).toEqual(["room.updated"]);
    expect(theirs.items[0]).toMatchObject({ isPrivate: true });
    ours.unsubscribe();
  });

  it("ends a member's subscription to a private room with FORBIDDEN when they leave on their own", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    const bobs = collectRoomEvents(bob.api, room.id);
    const ours = collectRoomEvents(owner.api, room.id);
    await Promise.all([bobs.started(), ours.started()]);
    await bob.api.chat.rooms.leave.mutate({ roomId: room.id });
    const secret = await send(owner.api, room.id, "secret");
    await bobs.until(() => bobs.error() !== undefined);
    await ours.until(() => ours.items.some((e) => e.seq === secret.seq));
    expect(bobs.error()?.data?.code).toBe("FORBIDDEN");
    expect(bobs.items).toEqual([
      expect.objectContaining({ type: "member.left", userId: bob.user.id, kicked: false }),
    ]);
    ours.unsubscribe();
  });

  it("ends a kicked member's subscription with FORBIDDEN after telling them", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
    const bobs = collectRoomEvents(bob.api, room.id, "0");
    await bobs.until(() => bobs.items.length === 2);
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });
    await bobs.until(() => bobs.error() !== undefined);
    expect(bobs.error()?.data?.code).toBe("FORBIDDEN");
    expect(bobs.items.at(-1)).toMatchObject({ type: "member.left", userId: bob.user.id, kicked: true });
    await owner.api.chat.messages.send.mutate({ roomId: room.id, content: "secret", clientMessageId: "s" });
    const again = collectRoomEvents(bob.api, room.id, "0");
    await again.until(() => again.error() !== undefined);
    expect(again.error()?.data?.code).toBe("NOT_FOUND");
  });

  it("ends every subscription of a deleted room with FORBIDDEN", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const bobs = collectRoomEvents(bob.api, room.id, "0");
    await bobs.until(() => bobs.items.length === 2);
    await owner.api.chat.rooms.delete.mutate({ roomId: room.id });
    await bobs.until(() => bobs.error() !== undefined);
    expect(bobs.error()?.data?.code).toBe("FORBIDDEN");
  });

  it("20 senders × 50 messages while the subscriber's socket is cut 4 times: all 1,000 arrive once, in seq order, no gaps", async () => {
    const { owner, room } = await roomWith(t, false);
    const senders = await Promise.all(Array.from({ length: 20 }, (_, i) => signUp(t, `Sender ${i}`)));
    await Promise.all(senders.map((s) => s.api.chat.rooms.join.mutate({ roomId: room.id })));
    // A cut waits until the client's socket from the previous cut has opened: a replay burst
    // can pass the next count first, and cutting a socket still opening would be no cut of an
    // open stream (wsLink then retries with a longer backoff).
    let opens = 0;
    const waiting = new Set<() => void>();
    const reopened = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (opens < count) return;
          waiting.delete(check);
          resolve();
        };
        waiting.add(check);
        check();
      });
    const api = createParleyClient({
      url: t.url,
      token: owner.token,
      WebSocket,
      onSocketOpen: () => {
        opens++;
        for (const listener of [...waiting]) listener();
      },
    });
    const subscriber = collectRoomEvents(api, room.id, "0");
    await subscriber.until(() => subscriber.items.length === 21);

    let reconnections = 0;
    const countConnection = () => reconnections++;
    t.server.webSocketServer.on("connection", countConnection);
    const sending = Promise.all(
      senders.map(async (sender, i) => {
        for (let n = 0; n < 50; n++) {
          await sender.api.chat.messages.send.mutate({
            roomId: room.id,
            content: `${i}:${n}`,
            clientMessageId: `s${i}-${n}`,
          });
        }
      }),
    );
    // Cut the connection from the server side after every 150 messages received: wsLink
    // reconnects by itself and resumes with the last tracked id it saw. Each cut waits for the
    // reconnection after the previous one: a replay burst can pass the next count first, and
    // a cut with no socket to cut would be lost.
    for (let cut = 1; cut <= 4; cut++) {
      await subscriber.until(() => subscriber.items.length >= 21 + cut * 150);
      await reopened(cut);
      for (const socket of t.server.webSocketServer.clients) socket.terminate();
    }
    await sending;
    await subscriber.until(() => subscriber.items.length >= 1021);
    // The last cut may come after the last event: its reconnection resumes at the end.
    await reopened(5);

    t.server.webSocketServer.off("connection", countConnection);
    expect(reconnections).toBeGreaterThanOrEqual(4);
    expect(opens).toBeGreaterThanOrEqual(5);
    const created = subscriber.items.filter((e) => e.type === "message.created");
    expect(created).toHaveLength(1000);
    expect(new Set(created.map((e) => e.message.id)).size).toBe(1000);
    expect(subscriber.items).toHaveLength(1021);
    const seqs = subscriber.items.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    // Each sender's messages arrive in the order that sender sent them.
    for (let i = 0; i < 20; i++) {
      const mine = created
        .filter((e) => e.message.userId === senders[i]?.user.id)
        .map((e) => e.message.content);
      expect(mine).toEqual(Array.from({ length: 50 }, (_, n) => `${i}:${n}`));
    }
    const stored = await owner.api.chat.messages.list.query({ roomId: room.id, limit: 1 });
    expect(stored.items[0]?.seq).toBe(seqs.at(-1));
    subscriber.unsubscribe();
  });
});

describe("chat.presence and chat.typing", () => {
  it("shows who is online and who is typing, and drops them when they go", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const watcher = collectPresence(owner.api, room.id);
    await watcher.until(() => watcher.items.some((s) => s.online.some((u) => u.userId === owner.user.id)));

    const bobs = collectPresence(bob.api, room.id);
    await watcher.until(() => watcher.items.at(-1)?.online.some((u) => u.userId === bob.user.id) ?? false);
    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items.find((m) => m.userId === bob.user.id)?.online).toBe(true);

    await bob.api.chat.typing.mutate({ roomId: room.id });
    await watcher.until(() => watcher.items.at(-1)?.typing.some((u) => u.userId === bob.user.id) ?? false);

    bobs.unsubscribe();
    await watcher.until(() => !(watcher.items.at(-1)?.online.some((u) => u.userId === bob.user.id) ?? true));
    watcher.unsubscribe();
  });

  it("ends a kicked member's presence stream with FORBIDDEN and drops them from the others' presence", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const watcher = collectPresence(owner.api, room.id);
    const bobs = collectPresence(bob.api, room.id);
    await watcher.until(() => watcher.items.at(-1)?.online.some((u) => u.userId === bob.user.id) ?? false);

    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });
    await bobs.until(() => bobs.error() !== undefined);
    expect(bobs.error()?.data?.code).toBe("FORBIDDEN");
    await watcher.until(() => !(watcher.items.at(-1)?.online.some((u) => u.userId === bob.user.id) ?? true));
    const members = await owner.api.chat.rooms.members.query({ roomId: room.id });
    expect(members.items.map((m) => m.userId)).toEqual([owner.user.id]);
    watcher.unsubscribe();
  });

  it("refuses presence to outsiders of a private room (NOT_FOUND) and to non-members of a public one (FORBIDDEN)", async () => {
    const { room: secret } = await roomWith(t, true);
    const { room: open } = await roomWith(t, false);
    const outsider = await signUp(t, "Outsider");
    const hidden = collectPresence(outsider.api, secret.id);
    const closed = collectPresence(outsider.api, open.id);
    await hidden.until(() => hidden.error() !== undefined);
    await closed.until(() => closed.error() !== undefined);
    expect(hidden.error()?.data?.code).toBe("NOT_FOUND");
    expect(closed.error()?.data?.code).toBe("FORBIDDEN");
  });
});
