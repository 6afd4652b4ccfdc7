import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The user's mentions inbox, newest first: unread ones marked, each read on its own or all at once. */
export function MentionsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const mentions = useInfiniteQuery(
    trpc.chat.mentions.list.infiniteQueryOptions(
      {},
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const unread = useQuery(trpc.chat.mentions.unreadCount.queryOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.chat.mentions.pathKey() });
  const markRead = useMutation(trpc.chat.mentions.markRead.mutationOptions({ onSuccess: refresh }));
  const items = mentions.data?.pages.flatMap((page) => page.items) ?? [];
  const unreadCount = unread.data?.count ?? 0;

  return (
    <Page
      title="Mentions"
      actions={
        <button
          type="button"
          onClick={() => markRead.mutate({})}
          disabled={unreadCount === 0 || markRead.isPending}
        >
          Mark all read
        </button>
      }
    >
      <p role="status">
        {unread.isSuccess && (unreadCount === 0 ? "No unread mentions." : `${unreadCount} unread.`)}
      </p>
      {mentions.isError && <p className="form-error">{serverErrors(mentions.error)[""]}</p>}
      {markRead.isError && <p className="form-error">{serverErrors(markRead.error)[""]}</p>}
      {mentions.isSuccess && items.length === 0 && <p>Nobody has mentioned you yet.</p>}
      <ol className="search-results mentions">
        {items.map((item) => (
          <li key={item.message.id} className={item.read ? "mention" : "mention unread"}>
            <p className="message-meta">
              {!item.read && <strong className="badge">New</strong>}{" "}
              <Link to={`/rooms/${item.message.roomId}`}>{item.roomName}</Link> ·{" "}
              <strong>{item.message.authorName}</strong> ·{" "}
              <time dateTime={item.message.createdAt}>
                {dateFormat.format(new Date(item.message.createdAt))}
              </time>
            </p>
            <p className="message-body">{item.message.content}</p>
            {!item.read && (
              <button
                type="button"
                className="link-button"
                onClick={() => markRead.mutate({ messageId: item.message.id })}
                disabled={markRead.isPending}
              >
                Mark read
              </button>
            )}
          </li>
        ))}
      </ol>
      {mentions.hasNextPage && (
        <button type="button" onClick={() => mentions.fetchNextPage()} disabled={mentions.isFetchingNextPage}>
          Older mentions
        </button>
      )}
      <MentionEmailPreference />
    </Page>
  );
}

/** There is no settings page yet: the email preference lives beside the inbox it is about. */
function MentionEmailPreference() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const preferences = useQuery(trpc.auth.preferences.queryOptions());
  const change = useMutation(
    trpc.auth.setMentionEmails.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.preferences.queryKey() }),
    }),
  );
  if (!preferences.data) return null;
  return (
    <section aria-labelledby="mention-emails-heading">
      <h2 id="mention-emails-heading">Email</h2>
      <p>
        Others mention you as <strong>@{preferences.data.handle}</strong>.
      </p>
      <div className="checkbox">
        <input
          id="mention-emails"
          type="checkbox"
          checked={preferences.data.mentionEmails}
          disabled={change.isPending}
          onChange={(event) => change.mutate({ enabled: event.target.checked })}
        />
        <label htmlFor="mention-emails">
          Email me about mentions while I am away (batched: at most one email per quarter hour)
        </label>
      </div>
      {change.isError && <p className="form-error">{serverErrors(change.error)[""]}</p>}
    </section>
  );
}
