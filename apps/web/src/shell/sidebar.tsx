import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useEffect, useRef } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { useTRPC } from "../parley.ts";
import { DirectMessageList, type DirectMessageSummary } from "./direct-messages.tsx";
import { UnreadBadge } from "./unread-badge.tsx";

/** Unread counts of rooms other than the open one change without an event here: re-read them. */
const REFRESH_MS = 30_000;

/**
 * The left column: the rooms the user is in (with unread counts), direct messages, and a slot
 * for the mentions inbox. On a phone it is a drawer: `open` shows it over the page.
 */
export function Sidebar({
  currentRoomId,
  open,
  onClose,
  directMessages = [],
  mentions,
}: {
  currentRoomId: string | null;
  open: boolean;
  onClose: () => void;
  /** Fed by the DMs round; none until then. */
  directMessages?: readonly DirectMessageSummary[];
  /** The mentions inbox's unread count, once the mentions API gives it; the link shows then. */
  mentions?: { unread: number };
}) {
  const trpc = useTRPC();
  const rooms = useQuery({
    ...trpc.chat.rooms.list.queryOptions({ limit: 100 }),
    refetchInterval: REFRESH_MS,
  });
  const mine = rooms.data?.items.filter((room) => room.myRole) ?? [];
  // Leaving a room is when its count (read there, hidden meanwhile) shows again: re-read them
  // all then rather than show the count from before the visit.
  const queryClient = useQueryClient();
  const listKey = trpc.chat.rooms.list.pathKey();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a change of room is the trigger.
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: listKey });
  }, [currentRoomId]);
  const closeButton = useRef<HTMLButtonElement>(null);
  useDrawerFocus(open, closeButton);

  return (
    <nav
      id="sidebar"
      className="sidebar"
      aria-label="Rooms and direct messages"
      data-open={open ? "" : undefined}
      onKeyDown={(event) => {
        if (open && event.key === "Escape") onClose();
      }}
    >
      <button ref={closeButton} type="button" className="link-button phone-only" onClick={onClose}>
        Close menu
      </button>
      {mentions && (
        <Link to="/mentions" className="sidebar-link">
          <span className="sidebar-name">Mentions</span>
          <UnreadBadge unread={0} mentions={mentions.unread} />
        </Link>
      )}
      <h2 id="sidebar-rooms-heading" className="sidebar-heading">
        Rooms
      </h2>
      {rooms.isError && <p className="form-error">{serverErrors(rooms.error)[""]}</p>}
      {rooms.isSuccess && mine.length === 0 && <p className="muted sidebar-empty">You are in no room yet.</p>}
      <ul className="sidebar-list" aria-labelledby="sidebar-rooms-heading">
        {mine.map((room) => (
          <li key={room.id}>
            <Link
              to={`/rooms/${room.id}`}
              className="sidebar-link"
              aria-current={room.id === currentRoomId ? "page" : undefined}
            >
              <span className="sidebar-name">
                <span aria-hidden="true">{room.isPrivate ? "🔒 " : "# "}</span>
                {room.name}
              </span>
              {/* The open room is being read: its count is stale until the next refetch. */}
              <UnreadBadge unread={room.id === currentRoomId ? 0 : room.unreadCount} />
            </Link>
          </li>
        ))}
      </ul>
      <Link to="/rooms" className="sidebar-more">
        Browse and create rooms
      </Link>
      <h2 id="sidebar-dms-heading" className="sidebar-heading">
        Direct messages
      </h2>
      <DirectMessageList conversations={directMessages} currentRoomId={currentRoomId} />
    </nav>
  );
}

/** Focus into the drawer when it opens (its close button), as a dialog would. */
function useDrawerFocus(open: boolean, first: RefObject<HTMLButtonElement | null>) {
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open, first]);
}
