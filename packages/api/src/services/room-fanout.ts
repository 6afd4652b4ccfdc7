import { sql } from "drizzle-orm";
import type { RESYNC_EVENT } from "../bus/event-bus.ts";
import { markPlainJson } from "../wire-encoding.ts";
import type { Caller, ChatDeps, RoomRole } from "./chat-deps.ts";
import { ChatError, roomNotFound } from "./chat-error.ts";
import { type RoomDeletedSignal, type RoomEvent, readRoomEvents, roomTopic } from "./room-events.ts";
import { readableRoom } from "./rooms-service.ts";

/** Events a room keeps in memory, so that resuming after a short drop (or a restart) needs no query. */
const RECENT_EVENTS = 256;
const REPLAY_PAGE = 500;

/**
 * Where a room's events go, in seq order, each once. Called synchronously (no buffering here)
 * and as plain functions, not methods: `this` is not the sink.
 */
export interface RoomEventSink {
  /** `id` is the event's seq as a string: what a client resumes from (`lastEventId`). */
  push(id: string, event: RoomEvent): void;
  /** The stream ended (access lost, database failure): nothing follows. */
  fail(error: unknown): void;
}

type BusMessage = RoomEvent | RoomDeletedSignal | typeof RESYNC_EVENT;

interface Subscriber {
  readonly caller: Caller;
  readonly sink: RoomEventSink;
  /** The last seq this subscriber was given. */
  last: number;
  /** Replayed up to the room's live point: receives events as they arrive. */
  live: boolean;
  isMember: boolean;
  closed: boolean;
  stop(): void;
}

const lostAccess = () => new ChatError("forbidden", "You no longer have access to this room");

/**
 * The room's event stream, once per room instead of once per subscriber. One bus subscription
 * per room with subscribers; each event is checked for order once and handed to every
 * subscriber synchronously (the transport encodes it once and writes the same bytes to every
 * socket). A room keeps its newest events in memory, so a crowd resuming after a restart costs
 * one query, not one each. Loss-free as before: a gap in what the bus delivers (events published
 * out of order, a Redis outage) is filled from the database, where every event is stored.
 */
export function createRoomFanout(deps: ChatDeps) {
  const channels = new Map<string, RoomChannel>();

  function channelOf(roomId: string): RoomChannel {
    let channel = channels.get(roomId);
    if (!channel) {
      const created = new RoomChannel(deps, roomId, () => {
        if (channels.get(roomId) === created) channels.delete(roomId);
      });
      channels.set(roomId, created);
      channel = created;
    }
    return channel;
  }

  /**
   * The caller's role (null: not a member) in a room they may read; NOT_FOUND otherwise. A room
   * already streaming here knows whether it is private (room.updated keeps it current), which
   * spares a query per subscriber when a crowd reconnects.
   */
  async function readableBy(caller: Caller, roomId: string): Promise<RoomRole | null> {
    const isPrivate = channels.get(roomId)?.privacy();
    if (isPrivate === undefined) return (await readableRoom(deps, caller, roomId)).myRole;
    const myRole = await deps.membership.role(roomId, caller.id);
    if (isPrivate && !myRole && caller.role !== "admin") throw roomNotFound();
    return myRole;
  }

  return {
    /**
     * Checks that `caller` may read the room (NOT_FOUND otherwise, before anything is sent),
     * replays what followed `afterSeq` (or starts from now when null), then streams live.
     * Resolves with the function that stops the stream.
     */
    async open(
      caller: Caller,
      roomId: string,
      afterSeq: number | null,
      sink: RoomEventSink,
    ): Promise<() => void> {
      const myRole = await readableBy(caller, roomId);
      const channel = channelOf(roomId);
      const leavePresence = myRole
        ? deps.presence.join(roomId, { userId: caller.id, displayName: caller.displayName })
        : () => {};
      const subscriber: Subscriber = {
        caller,
        sink,
        last: 0,
        live: false,
        isMember: myRole !== null,
        closed: false,
        stop() {
          if (subscriber.closed) return;
          subscriber.closed = true;
          channel.remove(subscriber);
          leavePresence();
        },
      };
      channel.add(subscriber);
      try {
        await channel.catchUp(subscriber, afterSeq);
      } catch (error) {
        subscriber.stop();
        throw error;
      }
      return subscriber.stop;
    },

    /** Rooms with subscribers on this instance (for tests and metrics). */
    activeRooms: () => channels.size,
  };
}

export type RoomFanout = ReturnType<typeof createRoomFanout>;

/** pg and PGlite both answer `execute` with `{ rows }`. */
interface LoadedRow {
  is_private: boolean;
  last_seq: number;
  payload: unknown;
}

class RoomChannel {
  private readonly subscribers = new Set<Subscriber>();
  /** The last seq handed to live subscribers: every event up to it is in `recent` or stored. */
  private seq = 0;
  private isPrivate = false;
  /** The newest events, oldest first, contiguous, ending at `seq`. */
  private recent: RoomEvent[] = [];
  /** What the bus delivered while the channel was loading or filling a gap. */
  private inbox: BusMessage[] = [];
  private busy = true;
  private loaded = false;
  private closed = false;
  /** Why the channel closed with subscribers still on it. */
  private failure: unknown = null;
  private readonly ready: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: ChatDeps,
    private readonly roomId: string,
    private readonly onClose: () => void,
  ) {
    // Subscribe before reading: nothing committed in between can be missed.
    this.unsubscribe = deps.bus.subscribe(roomTopic(roomId), (message) =>
      this.receive(message as BusMessage),
    );
    this.ready = this.load();
    // A failed load fails the subscribers waiting for it (catchUp awaits `ready`); not unhandled.
    this.ready.catch(() => {});
  }

  /** Whether the room is private, once loaded and while streaming; undefined otherwise. */
  privacy(): boolean | undefined {
    return this.loaded && !this.closed ? this.isPrivate : undefined;
  }

  add(subscriber: Subscriber) {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: Subscriber) {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.close();
  }

  /** Replays what `subscriber` missed after `afterSeq`, then makes it live. */
  async catchUp(subscriber: Subscriber, afterSeq: number | null): Promise<void> {
    await this.ready;
    this.throwIfFailed();
    let last = afterSeq ?? this.seq;
    while (last < this.seq && !subscriber.closed) {
      const first = this.recent[0];
      if (first && first.seq <= last + 1) {
        // Synchronous from here to `live`: no event can slip between the replay and the live stream.
        for (const event of this.recent) {
          if (event.seq <= last) continue;
          last = event.seq;
          replayTo(subscriber, event);
        }
        break;
      }
      const page = await readRoomEvents(this.deps.db, this.roomId, last, REPLAY_PAGE);
      if (subscriber.closed) return;
      this.throwIfFailed();
      if (page.length === 0) throw new Error(`room ${this.roomId}: events after ${last} are not stored`);
      for (const event of page) {
        if (event.seq <= last) continue;
        last = event.seq;
        replayTo(subscriber, event);
      }
    }
    subscriber.last = last;
    subscriber.live = true;
  }

  /** A subscriber must not go live on a channel that failed while it was catching up: it would hear nothing. */
  private throwIfFailed() {
    if (this.closed) throw this.failure ?? new Error(`room ${this.roomId}: its event channel closed`);
  }

  private async load(): Promise<void> {
    try {
      // One statement, one snapshot: the room's last seq and its newest events agree.
      const result = (await this.deps.db.execute(sql`
        select r.is_private, r.last_seq, e.payload
          from rooms r
          left join lateral (
            select payload, seq from room_events where room_id = r.id order by seq desc limit ${RECENT_EVENTS}
          ) e on true
         where r.id = ${this.roomId}
         order by e.seq asc`)) as unknown as { rows: LoadedRow[] };
      const rows = result.rows;
      const room = rows[0];
      if (!room) throw roomNotFound();
      this.isPrivate = room.is_private;
      this.seq = Number(room.last_seq);
      this.recent = rows.flatMap((row) => (row.payload ? [markPlainJson(row.payload as RoomEvent)] : []));
    } catch (error) {
      this.failure = error;
      this.close();
      throw error;
    }
    this.loaded = true;
    this.busy = false;
    this.drainInbox();
  }

  private receive(message: BusMessage) {
    if (this.closed) return;
    if (this.busy) this.inbox.push(message);
    else this.handle(message);
  }

  private handle(message: BusMessage) {
    if (message.type === "room.deleted") return this.failAll(lostAccess());
    if (message.type === "resync" || message.seq > this.seq + 1) return this.fillGap();
    if (message.seq === this.seq + 1) this.deliver(message);
  }

  private drainInbox() {
    while (!this.busy && !this.closed && this.inbox.length > 0) {
      this.handle(this.inbox.shift() as BusMessage);
    }
  }

  /** Reads what the bus skipped (or may have lost) from the database, then goes on with the inbox. */
  private fillGap() {
    this.busy = true;
    const fill = async () => {
      for (;;) {
        const page = await readRoomEvents(this.deps.db, this.roomId, this.seq, REPLAY_PAGE);
        if (this.closed) return;
        for (const event of page) if (event.seq === this.seq + 1) this.deliver(event);
        if (page.length < REPLAY_PAGE) return;
      }
    };
    fill().then(
      () => {
        this.busy = false;
        this.drainInbox();
      },
      (error: unknown) => this.failAll(error),
    );
  }

  private deliver(event: RoomEvent) {
    this.seq = event.seq;
    this.recent.push(event);
    if (this.recent.length >= 2 * RECENT_EVENTS) this.recent = this.recent.slice(-RECENT_EVENTS);
    if (event.type === "room.updated") this.isPrivate = event.isPrivate;
    // Once per event, not per subscriber: this loop runs for every subscriber of the room.
    const id = String(event.seq);
    const mayEndAccess = changesMembership(event);
    for (const subscriber of this.subscribers) {
      if (!subscriber.live || event.seq <= subscriber.last) continue;
      subscriber.last = event.seq;
      subscriber.sink.push(id, event);
      if (mayEndAccess && this.accessEndedFor(subscriber, event)) fail(subscriber, lostAccess());
    }
  }

  /** Kicked, or no longer a member of a room that is (or became) private. Tracks membership as it goes. */
  private accessEndedFor(subscriber: Subscriber, event: RoomEvent): boolean {
    trackMembership(subscriber, event);
    if (subscriber.caller.role === "admin") return false;
    if (event.type === "member.left" && event.userId === subscriber.caller.id) {
      return event.kicked || this.isPrivate;
    }
    if (event.type === "room.updated" && event.isPrivate) return !subscriber.isMember;
    return false;
  }

  private failAll(error: unknown) {
    const subscribers = [...this.subscribers];
    this.failure = error;
    this.close();
    for (const subscriber of subscribers) fail(subscriber, error);
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.inbox = [];
    this.onClose();
  }
}

function replayTo(subscriber: Subscriber, event: RoomEvent) {
  trackMembership(subscriber, event);
  subscriber.sink.push(String(event.seq), event);
}

function changesMembership(event: RoomEvent): boolean {
  return event.type === "member.joined" || event.type === "member.left" || event.type === "room.updated";
}

function trackMembership(subscriber: Subscriber, event: RoomEvent) {
  if (event.type === "member.joined" && event.userId === subscriber.caller.id) subscriber.isMember = true;
  if (event.type === "member.left" && event.userId === subscriber.caller.id) subscriber.isMember = false;
}

function fail(subscriber: Subscriber, error: unknown) {
  if (subscriber.closed) return;
  subscriber.stop();
  subscriber.sink.fail(error);
}
