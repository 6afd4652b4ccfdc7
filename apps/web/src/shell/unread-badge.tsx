/**
 * The counts beside a room or conversation: mentions (the more urgent, so first and in the
 * alert style) and unread messages. `mentions` stays undefined until the mentions API feeds it.
 */
export function UnreadBadge({ unread, mentions }: { unread: number; mentions?: number | undefined }) {
  return (
    <>
      {mentions !== undefined && mentions > 0 && (
        <span className="badge badge-mention">
          @{mentions}
          <span className="visually-hidden"> {mentions === 1 ? "mention" : "mentions"}</span>
        </span>
      )}
      {unread > 0 && (
        <span className="badge">
          {unread}
          <span className="visually-hidden"> unread</span>
        </span>
      )}
    </>
  );
}
