// refusePost checks a post at once when the room's mutes and words and the global list are
// cached, and after reading them when they are not: both paths must refuse the same posts.
import { randomUUID } from "node:crypto";
import { messagesService, moderationService, roomsService } from "@parley/core";
import { describe, expect, it } from "vitest";
import { type Person, serviceDepsForFile } from "../../src/service-deps.ts";

const { editMessage, react, sendMessage } = messagesService;
const { addGlobalWord, addRoomWord, lift, removeGlobalWord, restrict } = moderationService;
const { createRoom, joinRoom } = roomsService;

const deps = await serviceDepsForFile();

async function roomOfTwo() {
  const owner = await deps.person("Owner");
  const member = await deps.person("Member");
  const room = await createRoom(deps, owner, { name: "Talk", isPrivate: false });
  await joinRoom(deps, member, room.id);
  return { owner, member, roomId: room.id };
}

const send = (caller: Person, roomId: string, content: string) =>
  sendMessage(deps, caller, { roomId, content, clientMessageId: randomUUID() });

describe("post refusals, with the moderation lists cached and not", () => {
  it("refuses a muted member's first send, reaction and edit in a room whose lists were never read", async () => {
    const { owner, member, roomId } = await roomOfTwo();
    const before = await send(member, roomId, "said before the mute");
    await restrict(deps, owner, "mute", { roomId, userId: member.id });
    // The mute's announcement dropped the room's entry: each of these reads the lists afresh.
    expect(deps.moderation.cachedRoom(roomId)).toBeUndefined();
    await expect(send(member, roomId, "hello")).rejects.toMatchObject({ kind: "forbidden" });
    await expect(react(deps, member, { messageId: before.id, emoji: "👍" })).rejects.toMatchObject({
      kind: "forbidden",
    });
    await expect(
      editMessage(deps, member, { messageId: before.id, content: "changed" }),
    ).rejects.toMatchObject({ kind: "forbidden" });
  });

  it("with the lists cached by earlier sends, a mute, a room word and a global word each refuse the very next post", async () => {
    const { owner, member, roomId } = await roomOfTwo();
    const admin = await deps.person("Admin", "admin");
    const first = await send(member, roomId, "warming the cache");
    expect(deps.moderation.cachedRoom(roomId)).toBeDefined();
    expect(deps.moderation.cachedGlobalBlocklist()).toBeDefined();

    const roomWord = `zq${randomUUID().slice(0, 6)}`;
    await addRoomWord(deps, owner, { roomId, word: roomWord });
    await send(member, roomId, "a clean line re-reads the room's list");
    expect(deps.moderation.cachedRoom(roomId)).toBeDefined();
    await expect(send(member, roomId, `say ${roomWord.toUpperCase()} now`)).rejects.toMatchObject({
      kind: "invalid",
    });
    await expect(
      editMessage(deps, member, { messageId: first.id, content: `edited to ${roomWord}` }),
    ).rejects.toMatchObject({ kind: "invalid" });

    const globalWord = `zg${randomUUID().slice(0, 6)}`;
    await addGlobalWord(deps, admin, globalWord);
    await send(member, roomId, "a clean line re-reads the global list");
    await expect(send(member, roomId, `${globalWord}!`)).rejects.toMatchObject({ kind: "invalid" });
    await removeGlobalWord(deps, admin, globalWord);
    await expect(send(member, roomId, `${globalWord}!`)).resolves.toMatchObject({
      content: `${globalWord}!`,
    });

    await restrict(deps, owner, "mute", { roomId, userId: member.id, durationMinutes: 1 });
    deps.advance(30_000);
    await send(owner, roomId, "the owner's send caches the room with the mute");
    expect(deps.moderation.cachedRoom(roomId)?.mutes.has(member.id)).toBe(true);
    await expect(send(member, roomId, "hello")).rejects.toMatchObject({ kind: "forbidden" });
    await expect(react(deps, member, { messageId: first.id, emoji: "👍" })).rejects.toMatchObject({
      kind: "forbidden",
    });
    // The entry is still cached (read 31 s ago) and still lists the mute, which the clock ended.
    deps.advance(31_000);
    expect(deps.moderation.cachedRoom(roomId)?.mutes.has(member.id)).toBe(true);
    await expect(send(member, roomId, "free again")).resolves.toMatchObject({ content: "free again" });

    await restrict(deps, owner, "mute", { roomId, userId: member.id });
    await send(owner, roomId, "cached with the mute without end");
    await expect(send(member, roomId, "hello")).rejects.toMatchObject({ kind: "forbidden" });
    await lift(deps, owner, "mute", { roomId, userId: member.id });
    await expect(send(member, roomId, "unmuted")).resolves.toMatchObject({ content: "unmuted" });
  });
});
