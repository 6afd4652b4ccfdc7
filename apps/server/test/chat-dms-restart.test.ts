import type { ParleyClient, RoomEvent } from "@parley/client";
import { signUpAt } from "@parley/testing/accounts";
import { collectRoomEvents } from "@parley/testing/event-collector";
import { type RestartableServer, startRestartableServer } from "@parley/testing/restartable-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

let server: RestartableServer;
beforeAll(async () => {
  server = await startRestartableServer();
});
afterAll(() => server?.close());

const numbers = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

/**
 * The sends in flight at the shutdown (20–24) race each other: they commit in any order among
 * themselves, so within the positions they hold they are put in number order. Every other
 * message keeps the position it arrived in.
 */
function racingSorted(contents: (string | null)[]) {
  const racing = new Set(numbers(20, 25));
  const at = contents.flatMap((c, i) => (c !== null && racing.has(c) ? [i] : []));
  const sorted = at.map((i) => contents[i] ?? "").sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
  const out = [...contents];
  at.forEach((position, k) => {
    out[position] = sorted[k] ?? "";
  });
  return out;
}

function contentsOf(events: RoomEvent[]) {
  return events.flatMap((e) => (e.type === "message.created" ? [e.message.content] : []));
}

/** Message i, by Ann or Ben in turn, with a clientMessageId of its own: a retry after the restart is the same send. */
function sendNumber(people: ParleyClient[], roomId: string, i: number) {
  const api = people[i % people.length];
  if (!api) throw new Error("nobody to send");
  return api.chat.messages.send.mutate({
    roomId,
    content: `m${i}`,
    clientMessageId: `dm-restart-${roomId}-${i}`,
  });
}

describe("exactly-once resume in a DM across a server restart", () => {
  it("the server restarted mid-stream, sends in flight retried: each member (and a blocker) resumes with every event once, in order", async () => {
    const [ann, ben, cy] = await Promise.all([
      signUpAt(server.url, "Ann"),
      signUpAt(server.url, "Ben"),
      signUpAt(server.url, "Cy"),
    ]);
    const one = await ann.api.chat.dms.open.mutate({ userIds: [ben.user.id] });
    const group = await ann.api.chat.dms.open.mutate({ userIds: [ben.user.id, cy.user.id] });
    // In the group Cy blocked Ben: Cy's stream skips Ben's messages, and must stay exact around them.
    await cy.api.chat.blocks.block.mutate({ userId: ben.user.id });
    const senders = [ann.api, ben.api];
    const watch = () => ({
      annOne: collectRoomEvents(ann.api, one.id, "0"),
      benOne: collectRoomEvents(ben.api, one.id, "0"),
      cyGroup: collectRoomEvents(cy.api, group.id, "0"),
      benGroup: collectRoomEvents(ben.api, group.id, "0"),
    });
    const before = watch();
    for (let i = 0; i < 20; i++) {
      await sendNumber(senders, one.id, i);
      await sendNumber(senders, group.id, i);
    }
    await before.annOne.until(() => contentsOf(before.annOne.items).length === 20);
    await before.benOne.until(() => contentsOf(before.benOne.items).length === 20);
    await before.benGroup.until(() => contentsOf(before.benGroup.items).length === 20);
    await before.cyGroup.until(() => contentsOf(before.cyGroup.items).includes("m18"));

    // Sends 20–24 race the shutdown: some commit, some fail. Each is sent again after the
    // restart with its clientMessageId, so each commits once.
    const inFlight = Promise.allSettled(
      [20, 21, 22, 23, 24].flatMap((i) => [sendNumber(senders, one.id, i), sendNumber(senders, group.id, i)]),
    );
    await server.stop();
    await inFlight;
    for (const c of Object.values(before)) c.unsubscribe();
    await server.start();
    for (let i = 20; i < 40; i++) {
      await sendNumber(senders, one.id, i);
      await sendNumber(senders, group.id, i);
    }

    const resumed = {
      annOne: collectRoomEvents(ann.api, one.id, before.annOne.lastId()),
      benOne: collectRoomEvents(ben.api, one.id, before.benOne.lastId()),
      cyGroup: collectRoomEvents(cy.api, group.id, before.cyGroup.lastId()),
      benGroup: collectRoomEvents(ben.api, group.id, before.benGroup.lastId()),
    };
    const all = (name: keyof typeof resumed) => [
      ...contentsOf(before[name].items),
      ...contentsOf(resumed[name].items),
    ];
    await resumed.annOne.until(() => all("annOne").length >= 40);
    await resumed.benOne.until(() => all("benOne").length >= 40);
    await resumed.benGroup.until(() => all("benGroup").length >= 40);
    await resumed.cyGroup.until(() => all("cyGroup").includes("m38"));
    // One more after everything: nothing was held back or is still to come twice.
    await sendNumber(senders, one.id, 40);
    await sendNumber(senders, group.id, 40);
    await resumed.annOne.until(() => all("annOne").includes("m40"));
    await resumed.benOne.until(() => all("benOne").includes("m40"));
    await resumed.benGroup.until(() => all("benGroup").includes("m40"));
    await resumed.cyGroup.until(() => all("cyGroup").includes("m40"));

    // Each message once, in the order the sends committed (20–24 raced: see racingSorted).
    expect(racingSorted(all("annOne"))).toEqual(numbers(0, 41));
    expect(racingSorted(all("benOne"))).toEqual(numbers(0, 41));
    expect(racingSorted(all("benGroup"))).toEqual(numbers(0, 41));
    // Ben sends the odd numbers: Cy, who blocked him, gets exactly the even ones.
    expect(racingSorted(all("cyGroup"))).toEqual(numbers(0, 41).filter((_, i) => i % 2 === 0));
    // Every event (not only messages) once, in seq order, across the restart.
    for (const name of Object.keys(resumed) as (keyof typeof resumed)[]) {
      const seqs = [...before[name].items, ...resumed[name].items].map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      resumed[name].unsubscribe();
    }
  });
});
