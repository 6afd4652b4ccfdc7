// Services called directly on in-memory PGlite, beside the black-box suite in apps/server/test.
import { randomUUID } from "node:crypto";
import { DomainError, messagesService, roomsService } from "@parley/core";
import { describe, expect, it } from "vitest";
import { serviceDepsForFile } from "../../src/service-deps.ts";

const { listMessages, sendMessage } = messagesService;
const { createRoom, getRoom, joinRoom, listRooms } = roomsService;

const deps = await serviceDepsForFile();

/** The kind of refusal a service call was refused with (fails the test on success or another error). */
async function refusalOf(call: Promise<unknown>): Promise<DomainError["kind"]> {
  try {
    await call;
  } catch (error) {
    if (error instanceof DomainError) return error.kind;
    throw error;
  }
  throw new Error("expected the call to be refused");
}

describe("rooms service", () => {
  it("createRoom makes the caller its owner and only member", async () => {
    const ada = await deps.person("Ada");
    const room = await createRoom(deps, ada, { name: "Engines", isPrivate: false });
    expect(room).toMatchObject({ name: "Engines", isPrivate: false, ownerId: ada.id, myRole: "owner" });
    expect(await getRoom(deps, ada, room.id)).toMatchObject({ memberCount: 1, myRole: "owner" });
  });

  it("joinRoom makes anyone a member of a public room, once however often they join", async () => {
    const ada = await deps.person("Ada");
    const bob = await deps.person("Bob");
    const room = await createRoom(deps, ada, { name: "Open", isPrivate: false });
    await joinRoom(deps, bob, room.id);
    await joinRoom(deps, bob, room.id);
    expect(await getRoom(deps, bob, room.id)).toMatchObject({ memberCount: 2, myRole: "member" });
  });

  it("a private room is not-found to an outsider on every path, exactly like a room that does not exist", async () => {
    const ada = await deps.person("Ada");
    const eve = await deps.person("Eve");
    const hidden = await createRoom(deps, ada, { name: "Hidden", isPrivate: true });
    const outcomes = async (roomId: string) => ({
      get: await refusalOf(getRoom(deps, eve, roomId)),
      join: await refusalOf(joinRoom(deps, eve, roomId)),
      history: await refusalOf(listMessages(deps, eve, { roomId })),
      send: await refusalOf(
        sendMessage(deps, eve, { roomId, content: "hello?", clientMessageId: randomUUID() }),
      ),
    });
    const everyPath = { get: "not-found", join: "not-found", history: "not-found", send: "not-found" };
    expect(await outcomes(hidden.id)).toEqual(everyPath);
    expect(await outcomes(randomUUID())).toEqual(everyPath);
    const listed = await listRooms(deps, eve, { search: "Hidden" });
    expect(listed.items.map((room) => room.id)).not.toContain(hidden.id);
    expect(await getRoom(deps, ada, hidden.id)).toMatchObject({ memberCount: 1, myRole: "owner" });
  });
});
