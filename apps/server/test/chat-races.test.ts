import { randomUUID } from "node:crypto";
import type { AppRouter, RoomEvent, TRPCClientError } from "@parley/client";
import { schema } from "@parley/db";
import { type Account, codeOf, outcomes, roomWith, send, signUp } from "@parley/testing/chat-fixtures";
import { type Collector, collectRoomEvents } from "@parley/testing/event-collector";
import { and, asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// Issue 10: rights were checked before an operation, not where it commits. Each race runs
// enough rounds with real concurrency that the unchecked window is hit on every run.

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

/** Stored events of the room of these types, in seq order. */
async function storedEvents(roomId: string, type: RoomEvent["type"]) {
  return t.server.deps.db
    .select({ seq: schema.roomEvents.seq, payload: schema.roomEvents.payload })
    .from(schema.roomEvents)
    .where(and(eq(schema.roomEvents.roomId, roomId), eq(schema.roomEvents.type, type)))
    .orderBy(asc(schema.roomEvents.seq));
}

/** Settles once the subscription ended or received a message: a leak shows as the latter. */
const endedOrLeaked = (subscription: Collector<RoomEvent>) =>
  subscription.until(
    () => subscription.error() !== undefined || subscription.items.some((e) => e.type === "message.created"),
  );

/**
 * A subscriber that lost access while opening: either refused (NOT_FOUND, nothing sent) or
 * told of the change by the event that ended it (FORBIDDEN). Never a message after it.
 */
function outcomeOf(subscription: Collector<RoomEvent>, endingEvent: (e: RoomEvent) => boolean) {
  const code = subscription.error()?.data?.code;
  const leaked = subscription.items.filter((e) => e.type === "message.created").length;
  const last = subscription.items.at(-1);
  const told = code === "FORBIDDEN" && last !== undefined && endingEvent(last);
  return { code, leaked, consistent: code === "NOT_FOUND" || told };
}

describe("chat.events decides access on the stream it delivers", () => {
  const ROOMS = 60;

  it(`a subscription opened while its room turns private never streams what follows to a non-member (${ROOMS} rooms, with and without lastEventId)`, async () => {
    const owner = await signUp(t, "Owner");
    // One socket per outsider: at most 100 subscriptions per connection.
    const outsiders = await Promise.all([1, 2, 3].map((n) => signUp(t, `Outsider ${n}`)));
    const rooms = await Promise.all(
      Array.from({ length: ROOMS }, (_, i) =>
        owner.api.chat.rooms.create.mutate({ name: `R${i}`, isPrivate: false }),
      ),
    );
    const results = await Promise.all(
      rooms.map(async (room, i) => {
        const outsider = outsiders[i % outsiders.length] as Account;
        const resume = i % 2 === 0 ? String(room.lastSeq) : undefined;
        // Opened and changed at once: the change commits while the subscription is being decided.
        const subscription = collectRoomEvents(outsider.api, room.id, resume);
        await owner.api.chat.rooms.update.mutate({ roomId: room.id, isPrivate: true });
        await send(owner.api, room.id, "secret");
        await endedOrLeaked(subscription);
        subscription.unsubscribe();
        return outcomeOf(subscription, (e) => e.type === "room.updated" && e.isPrivate);
      }),
    );
    expect(results.filter((r) => r.leaked > 0)).toEqual([]);
    expect(results.filter((r) => !r.consistent)).toEqual([]);
  });

  it(`a member kicked from a private room while subscribing never receives what follows (${ROOMS} rooms, with and without lastEventId)`, async () => {
    const owner = await signUp(t, "Owner");
    const members = await Promise.all([1, 2, 3].map((n) => signUp(t, `Member ${n}`)));
    const rooms = await Promise.all(
      Array.from({ length: ROOMS }, async (_, i) => {
        const room = await owner.api.chat.rooms.create.mutate({ name: `K${i}`, isPrivate: true });
        const member = members[i % members.length] as Account;
        await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: member.user.id });
        return { room, member };
      }),
    );
    const results = await Promise.all(
      rooms.map(async ({ room, member }, i) => {
        const resume = i % 2 === 0 ? String(room.lastSeq) : undefined;
        const subscription = collectRoomEvents(member.api, room.id, resume);
        await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: member.user.id });
        await send(owner.api, room.id, "secret");
        await endedOrLeaked(subscription);
        subscription.unsubscribe();
        return outcomeOf(subscription, (e) => e.type === "member.left" && e.userId === member.user.id);
      }),
    );
    expect(results.filter((r) => r.leaked > 0)).toEqual([]);
    expect(results.filter((r) => !r.consistent)).toEqual([]);
  });
});

describe("writes hold membership where they commit", () => {
  it("sends in flight when the sender is kicked from a private room land before the kick or are NOT_FOUND (30 rounds × 10 sends)", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    let refused = 0;
    let landed = 0;
    for (let round = 0; round < 30; round++) {
      await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
      // Every other round the kick is asked first: with a send path faster than a kick, the sends
      // asked first could all commit before it, round after round, and the race would not be run.
      const kickFirst = round % 2 === 0;
      const kickFirstCall = kickFirst
        ? owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id })
        : null;
      const sends = Array.from({ length: 10 }, (_, n) =>
        bob.api.chat.messages.send
          .mutate({ roomId: room.id, content: `${round}:${n}`, clientMessageId: randomUUID() })
          .then(
            (message) => ({ seq: message.seq, code: "ok" }),
            (error: TRPCClientError<AppRouter>) => ({ seq: 0, code: String(error.data?.code) }),
          ),
      );
      const [results] = await Promise.all([
        Promise.all(sends),
        kickFirstCall ?? owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id }),
      ]);
      const kicks = await storedEvents(room.id, "member.left");
      const kickSeq = kicks.at(-1)?.seq ?? 0;
      for (const result of results) {
        if (result.code === "ok") {
          landed++;
          expect(result.seq).toBeLessThan(kickSeq);
        } else {
          refused++;
          expect(result.code).toBe("NOT_FOUND");
        }
      }
    }
    // Both outcomes happened: the race was run, not avoided.
    expect(landed).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("a reaction racing the message's delete commits before it or is NOT_FOUND: no reaction lands on a tombstone (30 rounds × 5 reactors)", async () => {
    const { owner, room } = await roomWith(t, false);
    const reactors = await Promise.all([1, 2, 3, 4, 5].map((n) => signUp(t, `Reactor ${n}`)));
    await Promise.all(reactors.map((r) => r.api.chat.rooms.join.mutate({ roomId: room.id })));
    const outcomesSeen = new Set<string>();
    for (let round = 0; round < 30; round++) {
      const message = await send(owner.api, room.id, `round ${round}`);
      const reacting = reactors.map((r) =>
        outcomes({ react: () => r.api.chat.messages.react.mutate({ messageId: message.id, emoji: "👍" }) }),
      );
      const [results] = await Promise.all([
        Promise.all(reacting),
        owner.api.chat.messages.delete.mutate({ messageId: message.id }),
      ]);
      for (const result of results) {
        expect(["ok", "NOT_FOUND"]).toContain(result.react);
        outcomesSeen.add(String(result.react));
      }
      const [deleted] = (await storedEvents(room.id, "message.deleted")).filter(
        (e) => (e.payload as { messageId: string }).messageId === message.id,
      );
      const reactions = (await storedEvents(room.id, "reaction.added")).filter(
        (e) => (e.payload as { messageId: string }).messageId === message.id,
      );
      expect(deleted).toBeDefined();
      for (const reaction of reactions) expect(reaction.seq).toBeLessThan(deleted?.seq ?? 0);
      expect(reactions).toHaveLength(results.filter((r) => r.react === "ok").length);
    }
    expect(outcomesSeen).toEqual(new Set(["ok", "NOT_FOUND"]));
  });

  it("reactions in flight when the reactor is kicked from a private room land before the kick or are NOT_FOUND (30 rounds × 5 emoji)", async () => {
    const { owner, room } = await roomWith(t, true);
    const bob = await signUp(t, "Bob");
    const emoji = ["👍", "🎉", "❤️", "👀", "🚀"];
    const seen = new Set<string>();
    for (let round = 0; round < 30; round++) {
      await owner.api.chat.rooms.invite.mutate({ roomId: room.id, userId: bob.user.id });
      const message = await send(owner.api, room.id, `round ${round}`);
      const reacting = emoji.map((e) =>
        outcomes({ react: () => bob.api.chat.messages.react.mutate({ messageId: message.id, emoji: e }) }),
      );
      const [results] = await Promise.all([
        Promise.all(reacting),
        owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id }),
      ]);
      const kickSeq = (await storedEvents(room.id, "member.left")).at(-1)?.seq ?? 0;
      const reactions = (await storedEvents(room.id, "reaction.added")).filter(
        (e) => (e.payload as { messageId: string }).messageId === message.id,
      );
      for (const result of results) {
        expect(["ok", "NOT_FOUND"]).toContain(result.react);
        seen.add(String(result.react));
      }
      for (const reaction of reactions) expect(reaction.seq).toBeLessThan(kickSeq);
      expect(reactions).toHaveLength(results.filter((r) => r.react === "ok").length);
    }
    expect(seen).toEqual(new Set(["ok", "NOT_FOUND"]));
  });

  it("a user kicked from a public room can no longer edit or delete their messages there (FORBIDDEN); a moderator still deletes them", async () => {
    const { owner, room } = await roomWith(t, false);
    const bob = await signUp(t, "Bob");
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    const first = await send(bob.api, room.id, "first");
    const second = await send(bob.api, room.id, "second");
    await owner.api.chat.rooms.kick.mutate({ roomId: room.id, userId: bob.user.id });

    expect(await codeOf(bob.api.chat.messages.edit.mutate({ messageId: first.id, content: "changed" }))).toBe(
      "FORBIDDEN",
    );
    expect(await codeOf(bob.api.chat.messages.delete.mutate({ messageId: first.id }))).toBe("FORBIDDEN");
    const { items } = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(items.find((m) => m.id === first.id)).toMatchObject({
      content: "first",
      editedAt: null,
      deletedAt: null,
    });

    await owner.api.chat.messages.delete.mutate({ messageId: second.id });
    const after = await owner.api.chat.messages.list.query({ roomId: room.id });
    expect(after.items.find((m) => m.id === second.id)?.deletedAt).not.toBeNull();

    // Back in the room, they are the author again.
    await bob.api.chat.rooms.join.mutate({ roomId: room.id });
    await bob.api.chat.messages.edit.mutate({ messageId: first.id, content: "changed" });
    await bob.api.chat.messages.delete.mutate({ messageId: first.id });
  });
});
