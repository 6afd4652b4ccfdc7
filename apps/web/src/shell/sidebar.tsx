import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useEffect, useRef } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { useTRPC } from "../parley.ts";
import { useMe } from "../session.ts";
import { DirectMessageList, dmTitle } from "./direct-messages.tsx";
import { UnreadBadge } from "./unread-badge.tsx";

/** Unread counts of rooms other than the open one change without an event here: re-read them. */
const REFRESH_MS = 30_000;

/**
 * The left column: the mentions inbox (with its unread count), the rooms the user is in and
 * their direct messages (with unread counts). On a phone it is a drawer: `open` shows it over
 * the page.
 */
export function Sidebar({
  currentRoomId,
  currentPath,
  open,
  onClose,
}: {
  currentRoomId: string | null;
  currentPath: string;
  open: boolean;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const me = useMe();
  const rooms = useQuery({
    ...trpc.chat.rooms.list.queryOptions({ limit: 100 }),
    refetchInterval: REFRESH_MS,
  });
  const dms = useQuery({
    ...trpc.chat.dms.list.queryOptions({ limit: 100 }),
    refetchInterval: REFRESH_MS,
  });
  const mentions = useQuery({
    ...trpc.chat.mentions.unreadCount.queryOptions(),
    refetchInterval: REFRESH_MS,
  });
  const directMessages =
    dms.data?.items.map((dm) => ({
      roomId: dm.id,
      title: dmTitle(dm.members, me?.id),
      // The open conversation is being read: its count is stale until the next refetch.
      unreadCount: dm.id === currentRoomId ? 0 : dm.unreadCount,
    })) ?? [];
  const mine = rooms.data?.items.filter((room) => room.myRole) ?? [];
  // Leaving a room is when its count (read there, hidden meanwhile) shows again: re-read them
  // all then rather than show the count from before the visit.
  const queryClient = useQueryClient();
  const listKey = trpc.chat.rooms.list.pathKey();
  const dmsKey = trpc.chat.dms.list.pathKey();
  // biome-ignore lint/correctness/useExhaustiveDependencies: a change of room is the trigger.
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: listKey });
    void queryClient.invalidateQueries({ queryKey: dmsKey });
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
      <Link
        to="/mentions"
        className="sidebar-link"
        aria-current={currentPath === "/mentions" ? "page" : undefined}
      >
        <span className="sidebar-name">
          <span aria-hidden="true">@ </span>Mentions
        </span>
        <UnreadBadge unread={0} mentions={mentions.data?.count} />
      </Link>
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
      {dms.isError && <p className="form-error">{serverErrors(dms.error)[""]}</p>}
      <DirectMessageList conversations={directMessages} currentRoomId={currentRoomId} />
      <Link to="/messages/new" className="sidebar-more">
        New direct message
      </Link>
    </nav>
  );
}

/** Focus into the drawer when it opens (its close button), as a dialog would. */
function useDrawerFocus(open: boolean, first: RefObject<HTMLButtonElement | null>) {
  useEffect(() => {
    if (open) first.current?.focus();
  }, [open, first]);
}
