import { sql } from "drizzle-orm";
import type { RESYNC_EVENT } from "../bus/event-bus.ts";
import { DomainError, roomNotFound } from "../errors.ts";
import { markPlainJson } from "../plain-json.ts";
import { type BlocksChanged, blockedBy, blocksTopic } from "./blocks-service.ts";
import type { Caller, ChatDeps, RoomRole } from "./chat-deps.ts";
import { type RoomDeletedSignal, type RoomEvent, readRoomEvents, roomTopic } from "./room-events.ts";
import { adminOverrides } from "./room-visibility.ts";

/**
 * Events a room keeps in memory (this many to twice as many), so that resuming after a short drop
 * or a restart needs no query: a restart's crowd comes back within a second or two (bench
 * workload 6 at 20 msgs/s: no more catch-up queries than with 256). Not more: at 100 msgs/s an
 * event kept 256 to 512 deep lives 2.5 to 5 s, outlives two scavenges with its frame, is moved
 * to old space and stays in the RSS until a major GC (bench workload 7: old space grew 3.6 MB over
 * the phase with 256, 2.5–2.6 MB with 32; RSS growth 5.9 → 4.6 MiB). A resume from further back
 * reads the database, as one past the window always did.
 */
const RECENT_EVENTS = 32;
const REPLAY_PAGE = 500;
/** Users whose access one snapshot query decides at most. */
const MAX_ACCESS_BATCH = 1000;

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

/** Whoever counts deliveries (apps/server's /metrics, through the API's observer). Called on the hot path. */
export interface FanoutObserver {
  /** The room fan-out handed a live event to `subscribers` subscribers (once per event per room). */
  delivered(event: RoomEvent, subscribers: number): void;
}

export interface FanoutDeps extends ChatDeps {
  /** Told once per live event per room, after it was handed to the room's subscribers. */
  observer?: FanoutObserver;
}

type BusMessage = RoomEvent | RoomDeletedSignal | typeof RESYNC_EVENT;

interface Subscriber {
  readonly caller: Caller;
  readonly sink: RoomEventSink;
  /** The last seq this subscriber was given. */
  last: number;
  /** Replayed up to the room's live point: receives events as they arrive. */
  live: boolean;
  /** The seq access was decided at: events after it are checked as they pass, replayed or live. */
  readonly decidedAt: number;
  /** Membership and visibility as of `last` (exact at `decidedAt`, then kept by the events). */
  isMember: boolean;
  roomIsPrivate: boolean;
  /** A site admin in a room that is not a DM (room-visibility.ts): reads it whether a member or not. */
  readonly adminReads: boolean;
  /** Whose messages this subscriber does not get (shared by the caller's subscriptions on this instance). */
  readonly blocks: BlockSet;
  closed: boolean;
  stop(): void;
}

interface AccessSnapshot {
  lastSeq: number;
  isPrivate: boolean;
  kind: string;
  role: RoomRole | null;
  /** The users the caller blocked. */
  blocked: string[];
}

/**
 * The users one subscriber's caller blocked, held while they have a subscription on this
 * instance: read with the access snapshot when the first opens, read again when the bus says
 * the caller blocked or unblocked someone. `blocked` is null when empty, so the deliver loop
 * costs a subscriber without blocks one comparison.
 */
interface BlockSet {
  blocked: ReadonlySet<string> | null;
  /** Subscriptions holding it. */
  users: number;
  /** Bumped by each reload: a read older than the newest does not overwrite it. */
  version: number;
  loaded: boolean;
}

interface AccessRequest {
  userId: string;
  resolve(snapshot: AccessSnapshot): void;
  reject(error: unknown): void;
}

/**
 * One statement, one snapshot: the room's last seq, its visibility and these users' roles
 * agree, because every change of membership or visibility appends its event (taking the next
 * seq under the room row's lock) in the transaction that makes it. Null: no such room.
 */
async function readAccessSnapshot(deps: ChatDeps, roomId: string, userIds: string[]) {
  const users = sql.join(
    userIds.map((id) => sql`${id}`),
    sql`, `,
  );
  const result = (await deps.db.execute(sql`
    select r.last_seq, r.is_private, r.kind,
           (select coalesce(json_object_agg(m.user_id, m.role), '{}'::json)
              from room_members m
             where m.room_id = r.id and m.user_id in (${users})) as roles,
           (select coalesce(json_object_agg(g.blocker_id, g.ids), '{}'::json)
              from (select blocker_id, json_agg(blocked_id) as ids from user_blocks
                     where blocker_id in (${users}) group by blocker_id) g) as blocks
      from rooms r
     where r.id = ${roomId}`)) as unknown as {
    rows: {
      last_seq: number | string;
      is_private: boolean;
      kind: string;
      roles: Record<string, RoomRole>;
      blocks: Record<string, string[]>;
    }[];
  };
  const row = result.rows[0];
  if (!row) return null;
  return {
    lastSeq: Number(row.last_seq),
    isPrivate: row.is_private,
    kind: row.kind,
    roles: new Map(Object.entries(row.roles)),
    blocks: new Map(Object.entries(row.blocks)),
  };
}

const lostAccess = () => new DomainError("forbidden", "You no longer have access to this room");

/**
 * The room's event stream, once per room instead of once per subscriber. One bus subscription
 * per room with subscribers; each event is checked for order once and handed to every
 * subscriber synchronously (the transport encodes it once and writes the same bytes to every
 * socket). A room keeps its newest events in memory, so a crowd resuming after a restart costs
 * one query, not one each. Loss-free as before: a gap in what the bus delivers (events published
 * out of order, a Redis outage) is filled from the database, where every event is stored.
 */
export function createRoomFanout(deps: FanoutDeps) {
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
   * Access checks by room: at most one snapshot query in flight per room; subscribers opening
   * on the room in the same turn of the event loop, or while it runs, share one, so a crowd
   * reconnecting costs a few queries, not one each.
   */
  const accessChecks = new Map<string, { waiting: AccessRequest[] }>();

  function accessAt(roomId: string, userId: string): Promise<AccessSnapshot> {
    return new Promise((resolve, reject) => {
      const request = { userId, resolve, reject };
      const running = accessChecks.get(roomId);
      if (running) {
        running.waiting.push(request);
        return;
      }
      const checks = { waiting: [request] };
      accessChecks.set(roomId, checks);
      // After this turn of the event loop: the frames of a crowd read in one go share the query.
      setImmediate(() => void readAccess(roomId, checks));
    });
  }

  async function readAccess(roomId: string, checks: { waiting: AccessRequest[] }) {
    while (checks.waiting.length > 0) {
      const batch = checks.waiting.splice(0, MAX_ACCESS_BATCH);
      try {
        const snapshot = await readAccessSnapshot(deps, roomId, [...new Set(batch.map((r) => r.userId))]);
        for (const request of batch) {
          if (!snapshot) request.reject(roomNotFound());
          else {
            const role = snapshot.roles.get(request.userId) ?? null;
            const blocked = snapshot.blocks.get(request.userId) ?? [];
            request.resolve({
              lastSeq: snapshot.lastSeq,
              isPrivate: snapshot.isPrivate,
              kind: snapshot.kind,
              role,
              blocked,
            });
          }
        }
      } catch (error) {
        for (const request of batch) request.reject(error);
      }
    }
    accessChecks.delete(roomId);
  }

  const blockSets = new Map<string, BlockSet>();

  // Never unsubscribed: the fan-out lives as long as the server's bus.
  deps.bus.subscribe(blocksTopic, (message) => {
    if ((message as typeof RESYNC_EVENT).type === "resync") {
      // The bus was cut off (Redis): a change announced meanwhile was lost, so every set is read again.
      for (const [userId, held] of blockSets) void reloadBlocks(userId, held);
      return;
    }
    const { blockerId, blocked } = message as BlocksChanged;
    const held = blockSets.get(blockerId);
    if (!held) return;
    held.blocked = blocked.length > 0 ? new Set(blocked) : null;
    held.loaded = true;
    void reloadBlocks(blockerId, held);
  });

  async function reloadBlocks(userId: string, held: BlockSet) {
    const version = ++held.version;
    try {
      const blocked = await blockedBy(deps.db, userId);
      if (held.version !== version) return;
      held.blocked = blocked.size > 0 ? blocked : null;
      held.loaded = true;
    } catch {
      // The database is out: keep the set as it was; the next block or unblock reads it again.
    }
  }

  function holdBlocks(userId: string): BlockSet {
    let held = blockSets.get(userId);
    if (!held) {
      held = { blocked: null, users: 0, version: 0, loaded: false };
      blockSets.set(userId, held);
    }
    held.users++;
    return held;
  }

  function releaseBlocks(userId: string, held: BlockSet) {
    if (--held.users === 0 && blockSets.get(userId) === held) blockSets.delete(userId);
  }

  return {
    /**
     * Decides access at one exact seq L, the room's last seq in a snapshot that also holds the
     * caller's membership: NOT_FOUND if the room is private to them then (before anything is
     * sent). Replays what followed `afterSeq` (or starts at L when null), then streams live.
     * History up to L is governed by access at L, as chat.messages.list is; every event after
     * L, replayed or live, is checked as it passes, so no change of access can fall between
     * the decision and the stream. Resolves with the function that stops the stream.
     */
    async open(
      caller: Caller,
      roomId: string,
      afterSeq: number | null,
      sink: RoomEventSink,
    ): Promise<() => void> {
      // Held before the snapshot is read: a block committed after that read is announced on the
      // bus to a holder already listening, and reloaded.
      const blocks = holdBlocks(caller.id);
      const version = blocks.version;
      let access: AccessSnapshot;
      try {
        access = await accessAt(roomId, caller.id);
        if (access.isPrivate && !access.role && !adminOverrides(caller, access)) throw roomNotFound();
        if (afterSeq !== null && afterSeq > access.lastSeq) {
          // Resuming past the newest event would silently skip every event up to afterSeq.
          throw new DomainError(
            "invalid",
            `${afterSeq} is past this room's newest event (${access.lastSeq})`,
            "lastEventId",
          );
        }
      } catch (error) {
        releaseBlocks(caller.id, blocks);
        throw error;
      }
      if (!blocks.loaded && blocks.version === version) {
        blocks.blocked = access.blocked.length > 0 ? new Set(access.blocked) : null;
        blocks.loaded = true;
      }
      const myRole = access.role;
      const channel = channelOf(roomId);
      // Members show as online while subscribed: left in `stop`, which runs once.
      const present = myRole !== null;
      if (present) deps.presence.enter(roomId, { userId: caller.id, displayName: caller.displayName });
      const subscriber: Subscriber = {
        caller,
        sink,
        last: 0,
        live: false,
        decidedAt: access.lastSeq,
        isMember: myRole !== null,
        roomIsPrivate: access.isPrivate,
        adminReads: adminOverrides(caller, access),
        blocks,
        closed: false,
        stop() {
          if (subscriber.closed) return;
          subscriber.closed = true;
          channel.remove(subscriber);
          // The channel's roomId, not the caller's copy of it: one string per room, not per subscriber.
          if (present) deps.presence.leave(channel.roomId, caller.id);
          releaseBlocks(caller.id, blocks);
        },
      };
      channel.add(subscriber);
      try {
        await channel.catchUp(subscriber, afterSeq ?? access.lastSeq);
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
  last_seq: number;
  payload: unknown;
}

class RoomChannel {
  private readonly subscribers = new Set<Subscriber>();
  /** The last seq handed to live subscribers: every event up to it is in `recent` or stored. */
  private seq = 0;
  /** The newest events, oldest first, contiguous, ending at `seq`. */
  private recent: RoomEvent[] = [];
  /** What the bus delivered while the channel was loading or filling a gap. */
  private inbox: BusMessage[] = [];
  private busy = true;
  private closed = false;
  /** Why the channel closed with subscribers still on it. */
  private failure: unknown = null;
  private readonly ready: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly deps: FanoutDeps,
    readonly roomId: string,
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

  add(subscriber: Subscriber) {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: Subscriber) {
    this.subscribers.delete(subscriber);
    if (this.subscribers.size === 0) this.close();
  }

  /**
   * Replays what `subscriber` missed after `afterSeq`, then makes it live. A channel behind the
   * subscriber (afterSeq past its seq: the subscriber's access snapshot, or the instance it
   * resumed from, saw newer events than this channel has yet) replays nothing; `deliver` then
   * skips what the subscriber already has.
   */
  async catchUp(subscriber: Subscriber, afterSeq: number): Promise<void> {
    await this.ready;
    this.throwIfFailed();
    let last = afterSeq;
    while (last < this.seq && !subscriber.closed) {
      const first = this.recent[0];
      if (first && first.seq <= last + 1) {
        // Synchronous from here to `live`: no event can slip between the replay and the live stream.
        for (const event of this.recent) {
          if (event.seq <= last) continue;
          last = event.seq;
          if (!replayTo(subscriber, event)) return;
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
        if (!replayTo(subscriber, event)) return;
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
        select r.last_seq, e.payload
          from rooms r
          left join lateral (
            select payload, seq from room_events where room_id = r.id order by seq desc limit ${RECENT_EVENTS}
          ) e on true
         where r.id = ${this.roomId}
         order by e.seq asc`)) as unknown as { rows: LoadedRow[] };
      const rows = result.rows;
      const room = rows[0];
      if (!room) throw roomNotFound();
      this.seq = Number(room.last_seq);
      this.recent = rows.flatMap((row) => (row.payload ? [markPlainJson(row.payload as RoomEvent)] : []));
    } catch (error) {
      this.failure = error;
      this.close();
      throw error;
    }
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
    // Once per event, not per subscriber: this loop runs for every subscriber of the room.
    const id = String(event.seq);
    const mayEndAccess = changesMembership(event);
    const author = authorOf(event);
    let delivered = 0;
    for (const subscriber of this.subscribers) {
      if (!subscriber.live || event.seq <= subscriber.last) continue;
      subscriber.last = event.seq;
      // A subscriber without blocks pays this one null check.
      const blocked = subscriber.blocks.blocked;
      if (blocked !== null && author !== null && blocked.has(author)) continue;
      subscriber.sink.push(id, event);
      delivered++;
      if (mayEndAccess && event.seq > subscriber.decidedAt && accessEndedFor(subscriber, event)) {
        fail(subscriber, lostAccess());
      }
    }
    this.deps.observer?.delivered(event, delivered);
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

/** Pushes a replayed event; false when it ended the subscriber's access (the stream has failed). */
function replayTo(subscriber: Subscriber, event: RoomEvent): boolean {
  const blocked = subscriber.blocks.blocked;
  const author = authorOf(event);
  if (blocked !== null && author !== null && blocked.has(author)) return true;
  subscriber.sink.push(String(event.seq), event);
  if (event.seq > subscriber.decidedAt && changesMembership(event) && accessEndedFor(subscriber, event)) {
    fail(subscriber, lostAccess());
    return false;
  }
  return true;
}

/**
 * Whose message this event shows or changes: what a block hides (its creation, its edits and its
 * deletion: the blocker never had it). Skipping it keeps the stream exact: the subscriber's
 * position moves past it, and a resume from any later id never sees it either. Reactions stay:
 * they carry no text, and history counts a blocked user's reactions too, so a live count that
 * skipped them would disagree with the page it updates. thread.updated carries only counters.
 * Events stored before message.updated/deleted carried `userId` have none: they pass, as before.
 */
function authorOf(event: RoomEvent): string | null {
  switch (event.type) {
    case "message.created":
      return event.message.userId;
    case "message.updated":
    case "message.deleted":
      return event.userId;
    default:
      return null;
  }
}

function changesMembership(event: RoomEvent): boolean {
  return event.type === "member.joined" || event.type === "member.left" || event.type === "room.updated";
}

/**
 * Kicked, or no longer a member of a room that is (or became) private, as of this event.
 * Tracks the subscriber's membership and the room's visibility as it goes: only for events
 * after the access decision, whose snapshot is exact before them.
 */
function accessEndedFor(subscriber: Subscriber, event: RoomEvent): boolean {
  const mine = "userId" in event && event.userId === subscriber.caller.id;
  if (event.type === "member.joined" && mine) subscriber.isMember = true;
  if (event.type === "member.left" && mine) subscriber.isMember = false;
  if (event.type === "room.updated") subscriber.roomIsPrivate = event.isPrivate;
  if (subscriber.adminReads) return false;
  if (event.type === "member.left" && mine) return event.kicked || subscriber.roomIsPrivate;
  if (event.type === "room.updated") return event.isPrivate && !subscriber.isMember;
  return false;
}

function fail(subscriber: Subscriber, error: unknown) {
  if (subscriber.closed) return;
  subscriber.stop();
  subscriber.sink.fail(error);
}
