import { useQuery } from "@tanstack/react-query";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

/**
 * Where a room's settings live: its people and their roles, mutes and bans. The entry point
 * and the page exist now; the moderation round fills the sections from `chat.moderation.*`.
 */
export function RoomSettingsPage({ roomId }: { roomId: string }) {
  const trpc = useTRPC();
  const room = useQuery(trpc.chat.rooms.get.queryOptions({ roomId }));
  if (room.isError) {
    return (
      <Page title="Room not found">
        <p>{serverErrors(room.error)[""]}</p>
        <p>
          <Link to="/rooms">Back to the rooms</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title={room.data ? `Settings of ${room.data.name}` : "Room settings"}>
      <p>
        <Link to={`/rooms/${roomId}`}>Back to the room</Link>
      </p>
      <section aria-labelledby="settings-roles" className="stack">
        <h2 id="settings-roles">Members and roles</h2>
        <p className="muted">Owners promote and demote moderators here, and hand the room over.</p>
      </section>
      <section aria-labelledby="settings-restrictions" className="stack">
        <h2 id="settings-restrictions">Mutes and bans</h2>
        <p className="muted">Moderators mute and ban members here, for a while or for good.</p>
      </section>
    </Page>
  );
}
