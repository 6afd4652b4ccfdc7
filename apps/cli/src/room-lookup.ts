import type { ParleyClient } from "@parley/client";
import { CliError, ExitCode } from "./cli-error.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A room given by id, or by its name among the rooms the user can see (exactly one must match). */
export async function findRoom(api: ParleyClient, nameOrId: string): Promise<{ id: string; name: string }> {
  if (UUID.test(nameOrId)) {
    const room = await api.chat.rooms.get.query({ roomId: nameOrId });
    return { id: room.id, name: room.name };
  }
  const wanted = nameOrId.trim().toLowerCase();
  const { items } = await api.chat.rooms.list.query({ search: nameOrId.trim(), limit: 100 });
  const matches = items.filter((room) => room.name.toLowerCase() === wanted);
  const [only] = matches;
  if (matches.length === 1 && only) return { id: only.id, name: only.name };
  if (matches.length === 0) {
    throw new CliError(
      `No room named "${nameOrId}" that you can see (try: parley rooms list)`,
      ExitCode.notFound,
    );
  }
  throw new CliError(
    `Several rooms are named "${nameOrId}"; give an id instead:\n${matches.map((r) => `  ${r.id}`).join("\n")}`,
    ExitCode.usage,
  );
}
