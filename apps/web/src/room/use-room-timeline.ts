import type { MessageView, RoomEvent } from "@parley/client";
import { skipToken, useInfiniteQuery } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useCallback, useMemo, useReducer, useRef } from "react";
import { useTRPC, useTRPCClient } from "../parley.ts";
import {
  emptyLiveState,
  type ListedMessage,
  liveReducer,
  mergeTimeline,
  newestSeq,
} from "./timeline-state.ts";

const PAGE_SIZE = 50;

/**
 * A room's messages: history pages read over HTTP, then every change from `chat.events`.
 *
 * `fromSeq` is the room's lastSeq read before the first page, and fixed for the life of the
 * view: the subscription replays every event after it, so nothing committed between the page
 * read and the subscription is missed. After a dropped connection wsLink resubscribes with the
 * last event id it saw and the server replays the gap; replayed events are keyed by message id
 * (see timeline-state.ts), so an overlap cannot double a message. Mount one per room (key it
 * by room id): its state belongs to that room.
 */
export function useRoomTimeline(roomId: string, fromSeq: number | null, onEvent: (event: RoomEvent) => void) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const [live, dispatch] = useReducer(liveReducer, emptyLiveState);

  const history = useInfiniteQuery({
    queryKey: ["room-history", roomId],
    queryFn:
      fromSeq === null
        ? skipToken
        : ({ pageParam }) =>
            client.chat.messages.list.query({
              roomId,
              limit: PAGE_SIZE,
              ...(pageParam === null ? {} : { before: pageParam }),
            }),
    initialPageParam: null as number | null,
    getNextPageParam: (page) => (page.hasMore ? (page.items.at(-1)?.seq ?? null) : null),
    // The live stream keeps these pages current; refetching them would only race it. Dropped
    // on leaving, so a return reads fresh pages together with a fresh fromSeq.
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: 0,
    refetchOnWindowFocus: false,
    refetchOnReconnect: false,
  });

  const pages = useMemo(() => history.data?.pages.map((page) => page.items) ?? [], [history.data]);
  const messages = useMemo(() => mergeTimeline(pages, live), [pages, live]);
  const latest = useRef<ListedMessage[]>(messages);
  latest.current = messages;

  // Reaction events carry one user's change, not the totals: the message's reactions are read
  // again, so counts stay right however events and pages overlap. The newest read wins.
  const reactionReads = useRef(new Map<string, number>());
  const refreshReactions = useCallback(
    async (messageId: string) => {
      const message = latest.current.find((m) => m.id === messageId);
      if (!message) return;
      const ticket = (reactionReads.current.get(messageId) ?? 0) + 1;
      reactionReads.current.set(messageId, ticket);
      const page = await client.chat.messages.list.query({ roomId, before: message.seq + 1, limit: 1 });
      const fresh = page.items.find((m) => m.id === messageId);
      if (fresh && reactionReads.current.get(messageId) === ticket) {
        dispatch({ type: "reactions", messageId, reactions: fresh.reactions });
      }
    },
    [client, roomId],
  );

  const onEventRef = useRef(onEvent);
  onEventRef.current = onEvent;
  const events = useSubscription(
    trpc.chat.events.subscriptionOptions(
      fromSeq === null ? skipToken : { roomId, lastEventId: String(fromSeq) },
      {
        onData: ({ data: event }) => {
          dispatch({ type: "event", event });
          if (event.type === "reaction.added" || event.type === "reaction.removed") {
            void refreshReactions(event.messageId).catch(() => {});
          }
          onEventRef.current(event);
        },
      },
    ),
  );

  return {
    /** The room's top-level messages (thread roots with their live counters). */
    messages,
    /** Everything that arrived live, replies included: a thread pane merges its own from it. */
    live,
    newestSeq: useMemo(() => newestSeq(messages, live), [messages, live]),
    /** Messages sent from this page appear at once, before their event arrives. */
    addSent: useCallback((message: MessageView) => dispatch({ type: "sent", message }), []),
    loadOlder: history.fetchNextPage,
    hasOlder: history.hasNextPage,
    loadingOlder: history.isFetchingNextPage,
    loading: history.isPending,
    error: history.error ?? events.error,
    refreshReactions,
  };
}
