import type { MessageView } from "@parley/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { useTRPC, useTRPCClient } from "../parley.ts";
import { newClientMessageId } from "./composer.tsx";
import { ThreadPane } from "./thread-pane.tsx";
import { type ListedMessage, type LiveState, mergeTimeline } from "./timeline-state.ts";

const THREAD_PAGE = 100;
/** The followed threads the room page reads for its unread counts (one list, one cache entry). */
export const FOLLOWED_INPUT = { limit: 100 } as const;

/**
 * A thread pane fed by the API: the root and its replies from `chat.threads.list`, then the
 * replies that arrive live on the room's own `chat.events` (the room page's stream: one
 * subscription per room), merged by message id so that an overlap cannot double one. The
 * reader's follow and read marker for the thread live here too.
 */
export function OpenThread({
  roomId,
  root,
  live,
  member,
  myId,
  onSent,
  onClose,
}: {
  roomId: string;
  /** The root as the timeline holds it (current edits and counters). */
  root: ListedMessage;
  live: LiveState;
  member: boolean;
  myId: string;
  onSent: (message: MessageView) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const queryClient = useQueryClient();
  const page = useQuery({
    ...trpc.chat.threads.list.queryOptions({ threadId: root.id, limit: THREAD_PAGE }),
    // The live stream keeps it current from here on.
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
  });
  const replies = useMemo(
    () => mergeTimeline([page.data?.items ?? []], live, root.id),
    [page.data, live, root.id],
  );

  const followedKey = trpc.chat.threads.followed.queryKey(FOLLOWED_INPUT);
  const followed = useQuery(trpc.chat.threads.followed.queryOptions(FOLLOWED_INPUT));
  const following = followed.data?.items.some((item) => item.threadId === root.id) ?? false;
  const refreshFollowed = () => queryClient.invalidateQueries({ queryKey: followedKey });
  const follow = useMutation(trpc.chat.threads.follow.mutationOptions({ onSuccess: refreshFollowed }));
  const unfollow = useMutation(trpc.chat.threads.unfollow.mutationOptions({ onSuccess: refreshFollowed }));

  // What is on screen is read: the thread's marker moves to its newest reply.
  const newest = replies.at(-1)?.seq ?? null;
  const marked = useRef(0);
  const { mutate: markRead } = useMutation(
    trpc.chat.threads.markRead.mutationOptions({ onSuccess: refreshFollowed }),
  );
  useEffect(() => {
    if (!following || newest === null || newest <= marked.current) return;
    marked.current = newest;
    markRead({ threadId: root.id, seq: newest });
  }, [following, newest, root.id, markRead]);

  // A retry of the same text and files keeps its clientMessageId: a send that did land is not
  // doubled.
  const draft = useRef<{ key: string; clientMessageId: string } | null>(null);
  const reply = async (content: string, attachmentIds: string[]) => {
    const key = JSON.stringify([content, attachmentIds]);
    if (draft.current?.key !== key) draft.current = { key, clientMessageId: newClientMessageId() };
    const message = await client.chat.messages.send.mutate({
      roomId,
      content,
      clientMessageId: draft.current.clientMessageId,
      parentId: root.id,
      ...(attachmentIds.length > 0 && { attachmentIds }),
    });
    draft.current = null;
    onSent(message);
    // Replying follows the thread (the server does it): show it.
    await refreshFollowed();
  };

  const hiddenOlder = page.data?.hasMore ? "Only the newest 100 replies are shown." : undefined;
  return (
    <ThreadPane
      roomId={roomId}
      root={root}
      replies={replies}
      onReply={member ? reply : undefined}
      onClose={onClose}
      follow={{
        following,
        pending: follow.isPending || unfollow.isPending || followed.isPending,
        onToggle: () =>
          following ? unfollow.mutate({ threadId: root.id }) : follow.mutate({ threadId: root.id }),
      }}
      mentions={member ? { roomId, myId } : undefined}
      status={
        page.isPending
          ? "Loading replies…"
          : page.isError
            ? serverErrors(page.error)[""]
            : hiddenOlder && `${replies.length} replies. ${hiddenOlder}`
      }
    />
  );
}
