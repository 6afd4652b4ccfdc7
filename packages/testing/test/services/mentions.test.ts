// The mention paths on in-memory PGlite (the embedded mode's database), beside the black-box
// suite in apps/server/test/mentions.test.ts.
import { randomUUID } from "node:crypto";
import { mentionsService, messagesService, roomsService } from "@parley/core";
import { schema } from "@parley/db";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { type Person, serviceDepsForFile } from "../../src/service-deps.ts";

const WINDOW_MS = 15 * 60_000;
const base = await serviceDepsForFile();
const deps = {
  ...base,
  mentionEmails: { windowMs: WINDOW_MS, secret: "s".repeat(32), publicOrigin: "https://chat.example.com" },
};

async function personWithHandle(name: string) {
  const person = await base.person(name);
  const handle = `${name.toLowerCase()}_${person.id.slice(0, 8)}`;
  await deps.db.update(schema.users).set({ handle }).where(eq(schema.users.id, person.id));
  return { ...person, handle };
}

async function roomOf(owner: Person, ...members: Person[]) {
  const room = await roomsService.createRoom(deps, owner, { name: "Talk", isPrivate: false });
  for (const member of members) await roomsService.joinRoom(deps, member, room.id);
  return room.id;
}

const send = (caller: Person, roomId: string, content: string) =>
  messagesService.sendMessage(deps, caller, { roomId, content, clientMessageId: randomUUID() });

async function digestsFor(userId: string) {
  const rows = await deps.db
    .select()
    .from(schema.emailOutbox)
    .where(eq(schema.emailOutbox.template, "mention-digest"));
  return rows.filter((row) => (row.data as { userId?: string }).userId === userId);
}

describe("mentions service", () => {
  it("three mentions within a minute make one digest, due one window after the first", async () => {
    const ada = await personWithHandle("Ada");
    const bob = await personWithHandle("Bob");
    const roomId = await roomOf(ada, bob);
    const first = deps.clock();
    for (const word of ["one", "two", "three"]) {
      const message = await send(ada, roomId, `${word} @${bob.handle}`);
      expect(message.mentions).toEqual([bob.id]);
      deps.advance(20_000);
    }
    const digests = await digestsFor(bob.id);
    expect(digests).toHaveLength(1);
    expect(digests[0]?.runAt.getTime()).toBe(first.getTime() + WINDOW_MS);
    expect(digests[0]?.data).toMatchObject({
      mentions: [{ excerpt: expect.stringContaining("one") }, {}, {}],
    });
  });

  it("a user online in the room (an open subscription to it) gets no email, only the inbox row", async () => {
    const ada = await personWithHandle("Ada");
    const bob = await personWithHandle("Bob");
    const roomId = await roomOf(ada, bob);
    const leave = deps.presence.join(roomId, { userId: bob.id, displayName: bob.displayName });
    try {
      await send(ada, roomId, `hi @${bob.handle}`);
    } finally {
      leave();
    }
    expect(await digestsFor(bob.id)).toEqual([]);
    expect(await mentionsService.unreadMentionCount(deps, bob)).toEqual({ count: 1 });
  });

  it("a text without @ stores no mentions; @room from the owner reaches every member but the sender", async () => {
    const ada = await personWithHandle("Ada");
    const bob = await personWithHandle("Bob");
    const cy = await personWithHandle("Cy");
    const roomId = await roomOf(ada, bob, cy);
    const plain = await send(ada, roomId, "no mentions here");
    expect(plain).toMatchObject({ mentions: [], mentionsRoom: false });
    const loud = await send(ada, roomId, "@room hello");
    expect(loud.mentionsRoom).toBe(true);
    for (const person of [bob, cy]) {
      expect(await mentionsService.unreadMentionCount(deps, person)).toEqual({ count: 1 });
    }
    expect(await mentionsService.unreadMentionCount(deps, ada)).toEqual({ count: 0 });
  });

  it("parses handles at word boundaries only, case-folded, once each", () => {
    expect(mentionsService.parseMentions("@Ann and @ann, a@bob.com, @@cy, @x, @room!")).toEqual({
      handles: ["ann"],
      room: true,
    });
    expect(mentionsService.parseMentions("email me: ann@example.com")).toBeNull();
  });
});
