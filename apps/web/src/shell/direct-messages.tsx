import { Link } from "../navigation.tsx";
import { UnreadBadge } from "./unread-badge.tsx";

/** The people in a DM other than the reader, by name: how it is called everywhere. */
export function dmTitle(members: readonly { id: string; displayName: string }[], myId: string | undefined) {
  const others = members.filter((member) => member.id !== myId);
  return (others.length > 0 ? others : members).map((member) => member.displayName).join(", ");
}

/**
 * A conversation as the sidebar lists it, from `chat.dms.list` (the conversation is a room of
 * kind 'dm', so it opens at /rooms/:roomId like any room).
 */
export interface DirectMessageSummary {
  roomId: string;
  /** The other people's names, as the list shows them. */
  title: string;
  unreadCount: number;
  mentionCount?: number;
}

/** The sidebar's "Direct messages" section: its conversations, or a word on how to start one. */
export function DirectMessageList({
  conversations,
  currentRoomId,
}: {
  conversations: readonly DirectMessageSummary[];
  currentRoomId: string | null;
}) {
  if (conversations.length === 0) {
    return (
      <p className="muted sidebar-empty">No direct messages yet. Conversations you start appear here.</p>
    );
  }
  return (
    <ul className="sidebar-list" aria-labelledby="sidebar-dms-heading">
      {conversations.map((dm) => (
        <li key={dm.roomId}>
          <Link
            to={`/rooms/${dm.roomId}`}
            className="sidebar-link"
            aria-current={dm.roomId === currentRoomId ? "page" : undefined}
          >
            <span className="sidebar-name">{dm.title}</span>
            <UnreadBadge unread={dm.unreadCount} mentions={dm.mentionCount} />
          </Link>
        </li>
      ))}
    </ul>
  );
}
