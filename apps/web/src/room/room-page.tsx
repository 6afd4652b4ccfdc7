import type { RoomEvent } from "@parley/client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useEffect, useRef, useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useParley, useTRPC } from "../parley.ts";
import type { Me } from "../session.ts";
import { Composer } from "./composer.tsx";
import { groupMessages } from "./message-groups.ts";
import { MessageItem } from "./message-item.tsx";
import { FOLLOWED_INPUT, OpenThread } from "./open-thread.tsx";
import { PresenceBar } from "./presence-bar.tsx";
import { AutoLoadOlder, useTimelineScroll } from "./timeline-scroll.tsx";
import type { ListedMessage } from "./timeline-state.ts";
import { useMarkRead } from "./use-mark-read.ts";
import { useRoomTimeline } from "./use-room-timeline.ts";

export function RoomPage({ roomId, me }: { roomId: string; me: Me }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { connection } = useParley();
  const room = useQuery({ ...trpc.chat.rooms.get.queryOptions({ roomId }), refetchOnMount: "always" });

  // Fixed at the first answer: a later refetch of the room must not move the replay point.
  const [fromSeq, setFromSeq] = useState<number | null>(null);
  useEffect(() => {
    if (fromSeq === null && room.data) setFromSeq(room.data.lastSeq);
  }, [fromSeq, room.data]);

  useEffect(() => connection.wantLive(), [connection]);

  const [spokeAt, setSpokeAt] = useState<ReadonlyMap<string, number>>(new Map());
  const onEvent = (event: RoomEvent) => {
    if (event.type === "message.created") {
      setSpokeAt((previous) => new Map(previous).set(event.message.userId, performance.now()));
      // A mention of the reader here: the sidebar's badge is stale.
      if (event.message.mentions.includes(me.id) || event.message.mentionsRoom) {
        void queryClient.invalidateQueries({ queryKey: trpc.chat.mentions.unreadCount.queryKey() });
      }
      // Someone else's reply in a thread the reader follows: its unread count moved.
      if (event.message.parentId !== null && event.message.userId !== me.id) {
        void queryClient.invalidateQueries({ queryKey: trpc.chat.threads.followed.queryKey(FOLLOWED_INPUT) });
      }
    }
    if (event.type === "member.joined" || event.type === "member.left" || event.type === "room.updated") {
      void queryClient.invalidateQueries({ queryKey: trpc.chat.rooms.get.queryKey({ roomId }) });
    }
  };
  const timeline = useRoomTimeline(roomId, fromSeq, onEvent);
  const member = Boolean(room.data?.myRole);
  const canModerate =
    me.role === "admin" || room.data?.myRole === "owner" || room.data?.myRole === "moderator";
  const join = useMutation(
    trpc.chat.rooms.join.mutationOptions({
      onSuccess: async (joined) => {
        queryClient.setQueryData(trpc.chat.rooms.get.queryKey({ roomId }), joined);
        await queryClient.invalidateQueries({ queryKey: trpc.chat.rooms.list.pathKey() });
      },
    }),
  );

  // The open thread, by its root's id: the root is read from the timeline, so an edit or a
  // deletion shows in the pane too. The trigger gets focus back when the pane closes.
  const [threadRootId, setThreadRootId] = useState<string | null>(null);
  const threadTrigger = useRef<HTMLElement | null>(null);
  const threadRoot = timeline.messages.find((message) => message.id === threadRootId);
  const openThread = (message: ListedMessage, trigger: HTMLElement) => {
    threadTrigger.current = trigger;
    setThreadRootId(message.id);
  };
  const closeThread = () => {
    setThreadRootId(null);
    threadTrigger.current?.focus();
  };
  const days = groupMessages(timeline.messages, new Date());
  // Unread replies per followed thread, shown under each root.
  const followed = useQuery(trpc.chat.threads.followed.queryOptions(FOLLOWED_INPUT));
  const unreadReplies = new Map(
    followed.data?.items
      .filter((item) => item.roomId === roomId)
      .map((item) => [item.threadId, item.unreadCount]),
  );

  const isDm = room.data?.kind === "dm";
  const members = useQuery({
    ...trpc.chat.rooms.members.queryOptions({ roomId }),
    enabled: isDm,
    staleTime: 60_000,
  });
  // A DM is named after the other people in it.
  const title = isDm
    ? (members.data?.items
        .filter((m) => m.userId !== me.id)
        .map((m) => m.displayName)
        .join(", ") ?? "Direct message")
    : room.data?.name;

  useMarkRead(roomId, member, timeline.newestSeq);
  const scroller = useTimelineScroll(timeline.messages.length);

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
    <Page
      title={title || "Room"}
      actions={member && !isDm && <Link to={`/rooms/${roomId}/settings`}>Room settings</Link>}
    >
      <div className={threadRoot ? "room-shell has-thread" : "room-shell"}>
        {/* A column as tall as the screen: only the timeline scrolls, the composer stays in view. */}
        <div className="room-layout">
          {room.data?.description && <p className="muted">{room.data.description}</p>}
          <PresenceBar roomId={roomId} member={member} myId={me.id} spokeAt={spokeAt} />
          <div className="timeline" ref={scroller.ref} onScroll={scroller.onScroll}>
            <div ref={scroller.topRef} className="timeline-top">
              {timeline.hasOlder ? (
                <button
                  type="button"
                  className="link-button"
                  onClick={() => scroller.keepPosition(() => timeline.loadOlder())}
                  disabled={timeline.loadingOlder}
                >
                  {timeline.loadingOlder ? "Loading older messages…" : "Load older messages"}
                </button>
              ) : (
                !timeline.loading && (
                  <p className="muted">This is the start of the {isDm ? "conversation" : "room"}.</p>
                )
              )}
            </div>
            {/* role=log: screen readers announce messages as they are added, not the whole list. On
            a wrapper, not the <ol>: a role there would take the list's role from it, and its
            items would be list items outside any list. */}
            <div role="log" aria-label="Messages">
              {/* A heading per day: screen-reader users can move through the days by heading. */}
              {days.map((day) => (
                <Fragment key={day.day}>
                  <h2 className="day-separator" data-day={day.day}>
                    <span>{day.label}</span>
                  </h2>
                  <ol className="messages">
                    {day.groups.flatMap((group) =>
                      group.messages.map((message, index) => (
                        <MessageItem
                          key={message.id}
                          message={message}
                          mine={message.userId === me.id}
                          canModerate={canModerate}
                          canReact={member}
                          startsGroup={index === 0}
                          onReplyInThread={member ? openThread : undefined}
                          onOpenThread={openThread}
                          unreadReplies={unreadReplies.get(message.id)}
                        />
                      )),
                    )}
                  </ol>
                </Fragment>
              ))}
            </div>
          </div>
          {timeline.error && <p className="form-error">{serverErrors(timeline.error)[""]}</p>}
          {room.data && !member && (
            <p>
              You are reading a public room.{" "}
              <button type="button" onClick={() => join.mutate({ roomId })} disabled={join.isPending}>
                Join to write
              </button>
            </p>
          )}
          {member && <Composer roomId={roomId} myId={me.id} onSent={timeline.addSent} />}
          {/* Loads older messages when the top of the list scrolls into view. */}
          <AutoLoadOlder
            target={scroller.topRef}
            root={scroller.ref}
            onVisible={() => {
              if (timeline.hasOlder && !timeline.loadingOlder)
                scroller.keepPosition(() => timeline.loadOlder());
            }}
          />
        </div>
        {threadRoot && (
          <OpenThread
            key={threadRoot.id}
            roomId={roomId}
            root={threadRoot}
            live={timeline.live}
            member={member}
            myId={me.id}
            onSent={timeline.addSent}
            onClose={closeThread}
          />
        )}
      </div>
    </Page>
  );
}
