import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { createInProcessBus } from "../../infra/bus/in-process-bus.ts";
import {
  createPresenceTracker,
  type PresenceStore,
  type PresenceUser,
  presenceTopic,
} from "./presence-tracker.ts";

const user = (i: number): PresenceUser => ({ userId: `user-${i}`, displayName: `User ${i}` });

describe("presence tracker", () => {
  it("lists the users online in the order they came, once however many connections each holds, typing apart", async () => {
    const presence = createPresenceTracker(createInProcessBus());
    const leaveA = presence.join("room", user(1));
    const leaveB = presence.join("room", user(2));
    const leaveA2 = presence.join("room", user(1));
    presence.join("room", user(3));
    presence.join("other", user(4));
    await presence.typing("room", user(2));
    expect(await presence.snapshot("room")).toEqual({
      roomId: "room",
      online: [user(1), user(2), user(3)],
      typing: [user(2)],
    });

    leaveA();
    leaveA(); // a second call is a no-op: user 1 still has a connection
    expect((await presence.snapshot("room")).online).toEqual([user(1), user(2), user(3)]);
    leaveA2();
    leaveB();
    presence.join("room", user(1));
    expect((await presence.snapshot("room")).online).toEqual([user(3), user(1)]);
    expect((await presence.snapshot("other")).online).toEqual([user(4)]);
    expect(await presence.snapshot("empty")).toEqual({ roomId: "empty", online: [], typing: [] });
    presence.close();
  });

  it("costs a join or a leave the same in a room of 5,000 as in an empty one: lists are built when read, once per change", async () => {
    const bus = createInProcessBus();
    const notices: unknown[] = [];
    bus.subscribe(presenceTopic("room"), (notice) => notices.push(notice));
    const presence = createPresenceTracker(bus);
    const crowd = 5_000;
    const leaves: (() => void)[] = [];
    // Each in its own turn, as subscribers opening one by one: every join is announced.
    for (let i = 0; i < crowd; i++) {
      leaves.push(presence.join("room", user(i)));
      await nextTurn();
    }
    expect(notices).toHaveLength(crowd);
    // Before: every join copied the whole list, 1 + 2 + … + 5,000 = 12.5 million entries.
    expect(presence.entriesListed()).toBe(0);

    const first = await presence.snapshot("room");
    expect(first.online).toHaveLength(crowd);
    expect(first.online[crowd - 1]).toEqual(user(crowd - 1));
    // Every reader until the next change shares that list.
    await presence.snapshot("room");
    expect(presence.entriesListed()).toBe(crowd);

    for (const leave of leaves) {
      leave();
      await nextTurn();
    }
    expect(notices).toHaveLength(2 * crowd);
    expect(presence.entriesListed()).toBe(crowd);
    expect((await presence.snapshot("room")).online).toEqual([]);
    presence.close();
  });

  it("announces and shares the changes of one turn once: a crowd opening together is one save and one notice", async () => {
    const bus = createInProcessBus();
    const notices: unknown[] = [];
    bus.subscribe(presenceTopic("room"), (notice) => notices.push(notice));
    const saved: number[] = [];
    const store: PresenceStore = {
      async save(_roomId, presence) {
        saved.push(presence.online.length);
      },
      async load(_roomId, local) {
        return [local, { online: [user(-1)], typing: [] }];
      },
    };
    const presence = createPresenceTracker(bus, { store });
    for (let i = 0; i < 5_000; i++) presence.join("room", user(i));
    await nextTurn();
    await nextTurn();
    expect(saved).toEqual([5_000]);
    expect(notices).toEqual([{ roomId: "room" }]);
    // Another instance's users follow this instance's, as before.
    const snapshot = await presence.snapshot("room");
    expect(snapshot.online).toHaveLength(5_001);
    expect(snapshot.online.at(-1)).toEqual(user(-1));
    presence.close();
  });
});
