import type { RouterOutputs } from "@parley/client";
import { usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { isoTime } from "../iso-time.ts";
import { cell, formatTable } from "../output-table.ts";

type Room = RouterOutputs["chat"]["rooms"]["list"]["items"][number];

export const roomsList = defineCommand({
  details: [
    "Public rooms and your private ones, newest first. Names work wherever a command takes ROOM.",
    "JSON fields: id, name, description, isPrivate, memberCount, myRole (owner, moderator, member,",
    "or null when not joined), unreadCount (null when not joined), lastSeq, createdAt.",
  ].join("\n"),
  options: {
    search: { type: "string", description: "only rooms whose name contains TEXT", valueName: "TEXT" },
  },
  json: "array",
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    const { api } = await ctx.signedIn();
    const rooms: Room[] = [];
    let cursor: number | undefined;
    do {
      const page = await api.chat.rooms.list.query({ cursor, limit: 100, search: values.search });
      rooms.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    if (values.json) {
      ctx.printJson(
        rooms.map((room) => ({
          id: room.id,
          name: room.name,
          description: room.description,
          isPrivate: room.isPrivate,
          memberCount: room.memberCount,
          myRole: room.myRole ?? null,
          unreadCount: room.myRole ? room.unreadCount : null,
          lastSeq: room.lastSeq,
          createdAt: isoTime(room.createdAt),
        })),
      );
      return;
    }
    if (rooms.length === 0) {
      ctx.print(values.search ? "No rooms match." : "No rooms yet: parley rooms create NAME");
      return;
    }
    const rows = rooms.map((room) => [
      cell(room.name, 40),
      room.id,
      String(room.memberCount),
      room.myRole ? String(room.unreadCount) : "-",
      [room.isPrivate ? "private" : "public", room.myRole ?? "not joined"].join(", "),
    ]);
    for (const line of formatTable(["NAME", "ID", "MEMBERS", "UNREAD", "ACCESS"], rows)) ctx.print(line);
  },
});

export const roomsCreate = defineCommand({
  details: "Prints the new room's id.",
  options: {
    description: { type: "string", description: "what the room is for", valueName: "TEXT" },
    private: { type: "boolean", description: "only people you invite can see it" },
  },
  positionals: { min: 1, max: 1 },
  async run(ctx, values, [name]) {
    // Imported here: the schemas bring zod (0.1-0.3 s to load), which rooms list does not need.
    const { createRoomInput } = await import("@parley/api/schemas");
    const input = createRoomInput.safeParse({
      name,
      description: values.description,
      isPrivate: values.private ?? false,
    });
    if (!input.success) {
      throw usageError(
        input.error.issues.map((i) => `${i.path.join(".") || "room"}: ${i.message}`).join("\n"),
      );
    }
    const { api } = await ctx.signedIn();
    const room = await api.chat.rooms.create.mutate(input.data);
    ctx.print(`Created ${room.isPrivate ? "private" : "public"} room "${room.name}": ${room.id}`);
  },
});
