import type { MessageView, RoomEvent, RouterOutputs } from "@parley/client";

export type ListedMessage = RouterOutputs["chat"]["messages"]["list"]["items"][number];
export type Reaction = ListedMessage["reactions"][number];

/**
 * What arrived after the history pages were read: messages created live (or sent from here),
 * edits and deletions, and reaction lists fetched fresh. Every change is keyed by message id,
 * so applying an event twice (a replay overlapping a page, a send racing its own event)
 * leaves the same state: nothing can appear twice.
 */
export interface LiveState {
  created: ReadonlyMap<string, MessageView>;
  changed: ReadonlyMap<string, Pick<MessageView, "content" | "editedAt" | "deletedAt">>;
  reactions: ReadonlyMap<string, Reaction[]>;
  /** A thread root's counters, from its latest `thread.updated`. */
  threads: ReadonlyMap<string, Pick<MessageView, "replyCount" | "lastReplyAt">>;
}

export const emptyLiveState: LiveState = {
  created: new Map(),
  changed: new Map(),
  reactions: new Map(),
  threads: new Map(),
};

export type LiveAction =
  | { type: "event"; event: RoomEvent }
  | { type: "sent"; message: MessageView }
  | { type: "reactions"; messageId: string; reactions: Reaction[] };

function withEntry<K, V>(map: ReadonlyMap<K, V>, key: K, value: V): Map<K, V> {
  return new Map(map).set(key, value);
}

export function liveReducer(state: LiveState, action: LiveAction): LiveState {
  if (action.type === "sent") {
    if (state.created.has(action.message.id)) return state;
    return { ...state, created: withEntry(state.created, action.message.id, action.message) };
  }
  if (action.type === "reactions") {
    return { ...state, reactions: withEntry(state.reactions, action.messageId, action.reactions) };
  }
  const { event } = action;
  switch (event.type) {
    case "message.created":
      return { ...state, created: withEntry(state.created, event.message.id, event.message) };
    case "message.updated":
      return {
        ...state,
        changed: withEntry(state.changed, event.messageId, {
          content: event.content,
          editedAt: event.editedAt,
          deletedAt: null,
        }),
      };
    case "message.deleted":
      return {
        ...state,
        changed: withEntry(state.changed, event.messageId, {
          content: null,
          editedAt: state.changed.get(event.messageId)?.editedAt ?? null,
          deletedAt: event.deletedAt,
        }),
      };
    case "thread.updated":
      return {
        ...state,
        threads: withEntry(state.threads, event.threadId, {
          replyCount: event.replyCount,
          lastReplyAt: event.lastReplyAt,
        }),
      };
    default:
      // Reactions are re-read from the server (see useRoomTimeline); membership and room
      // changes are refetched by the page.
      return state;
  }
}

/**
 * History pages and live state as one list, oldest first, one entry per message id: the room's
 * top-level messages (`parentId` null), or with `threadId` that thread's replies. Replies arrive
 * on the room's one stream with everything else and are told apart here.
 */
export function mergeTimeline(
  pages: readonly (readonly ListedMessage[])[],
  live: LiveState,
  threadId: string | null = null,
): ListedMessage[] {
  const byId = new Map<string, ListedMessage>();
  for (const page of pages) for (const message of page) byId.set(message.id, message);
  for (const message of live.created.values()) {
    if (message.parentId === threadId && !byId.has(message.id)) {
      byId.set(message.id, { ...message, reactions: [] });
    }
  }
  const merged: ListedMessage[] = [];
  for (const message of byId.values()) {
    const changed = live.changed.get(message.id);
    const reactions = live.reactions.get(message.id);
    merged.push({
      ...message,
      ...(changed ?? {}),
      // A deletion wins over an edit replayed after it.
      ...(message.deletedAt && !changed?.deletedAt ? { content: null, deletedAt: message.deletedAt } : {}),
      ...(live.threads.get(message.id) ?? {}),
      reactions: reactions ?? message.reactions,
    });
  }
  return merged.sort((a, b) => a.seq - b.seq);
}

/** The newest seq this view has seen, replies included: they count as unread in the room too. */
export function newestSeq(messages: readonly ListedMessage[], live: LiveState): number | null {
  let newest = messages.at(-1)?.seq ?? null;
  for (const message of live.created.values()) {
    if (newest === null || message.seq > newest) newest = message.seq;
  }
  return newest;
}
