import { randomUUID } from "node:crypto";
import { createParleyClient, type ParleyClient, type RoomEvent, TRPCClientError } from "@parley/client";
import WebSocket from "ws";
import { signUpAt } from "./accounts.ts";
import { type Collector, collectRoomEvents } from "./event-collector.ts";

/** One chat.messages.send as the sender saw it. */
export interface SendRecord {
  clientMessageId: string;
  startedAt: number;
  endedAt: number;
  /** "ok", the tRPC error code, "TIMEOUT" (no answer within the send timeout) or "NETWORK". */
  outcome: string;
  httpStatus?: number;
  seq?: number;
}

export interface ChatLoadOptions {
  url: string;
  senders: number;
  subscribers: number;
  /** Pause between one sender's sends: keeps the fan-out within what 2 cores can carry. */
  paceMs: number;
  /** A send without an answer by then counts as hung. */
  sendTimeoutMs: number;
}

export interface DeliveryFigures {
  sent: number;
  acknowledged: number;
  failed: Record<string, number>;
  /** Stored in the room (read back through history), acknowledged or not. */
  committed: number;
  /** Committed although the sender got an error (the commit raced the outage). */
  committedWithoutAck: number;
  subscribers: number;
  receivedPerSubscriber: { min: number; max: number };
  /** Summed over subscribers: acknowledged messages a subscriber never got. */
  lost: number;
  /** Summed over subscribers: messages a subscriber got more than once. */
  doubled: number;
  /** Subscribers whose messages arrived out of seq order. */
  outOfOrder: number;
  /** Subscribers whose stream ended with an error they could not resume from. */
  failedStreams: number;
  /** Subscribers whose stream the server ended with SERVICE_UNAVAILABLE, and that resumed. */
  resumedStreams: number;
  /** The errors that ended streams, by code and message. */
  streamErrors: Record<string, number>;
  /** The longest wait, over all subscribers, between a message's acknowledgement and its arrival. */
  longestStallMs: number;
}

/**
 * Real traffic against a server: `senders` accounts sending into one public room over HTTP, and
 * `subscribers` typed clients (@parley/client over `ws`), one WebSocket each, on chat.events.
 * Every send is recorded with its outcome; every arrival with its time.
 */
export async function startChatLoad(options: ChatLoadOptions) {
  const register = async (displayName: string) => (await signUpAt(options.url, displayName)).token;
  const ownerToken = await register("Owner");
  const owner = createParleyClient({ url: options.url, token: ownerToken });
  const room = await owner.chat.rooms.create.mutate({ name: "Load", isPrivate: false });

  const senders: ParleyClient[] = [];
  for (let i = 0; i < options.senders; i++) {
    const api = createParleyClient({ url: options.url, token: await register(`Sender ${i}`) });
    await api.chat.rooms.join.mutate({ roomId: room.id });
    senders.push(api);
  }

  // One account reads from many sockets, as one person's tabs and devices would; what is measured
  // is each socket's stream.
  const readerToken = await register("Reader");
  const streams: ReturnType<typeof collectRoomEvents>[] = [];
  for (let i = 0; i < options.subscribers; i++) {
    const api = createParleyClient({ url: options.url, token: readerToken, WebSocket });
    streams.push(collectRoomEvents(api, room.id, undefined, { resumeWhenUnavailable: true }));
  }
  await Promise.all(streams.map((stream) => stream.started()));
  const broken = streams.findIndex((stream) => stream.error());
  if (broken >= 0)
    throw new Error(`subscriber ${broken} failed to start: ${streams[broken]?.error()?.message}`);

  const sends: SendRecord[] = [];
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  let running = true;
  const sendLoop = async (api: ParleyClient) => {
    while (running) {
      const record: SendRecord = {
        clientMessageId: randomUUID(),
        startedAt: Date.now(),
        endedAt: 0,
        outcome: "ok",
      };
      try {
        const message = await api.chat.messages.send.mutate(
          {
            roomId: room.id,
            content: `load ${record.clientMessageId}`,
            clientMessageId: record.clientMessageId,
          },
          { signal: AbortSignal.timeout(options.sendTimeoutMs) },
        );
        record.seq = message.seq;
      } catch (error) {
        if (error instanceof TRPCClientError && error.data?.code) {
          record.outcome = error.data.code;
          record.httpStatus = error.data.httpStatus;
        } else {
          const aborted = error instanceof Error && /abort|timeout/i.test(`${error.name} ${error.message}`);
          record.outcome = aborted ? "TIMEOUT" : "NETWORK";
        }
      }
      record.endedAt = Date.now();
      sends.push(record);
      notify();
      await new Promise((resolve) => setTimeout(resolve, options.paceMs));
    }
  };
  const loops = senders.map(sendLoop);

  /** Resolves once the predicate over the sends so far holds (checked after every send). */
  const until = (predicate: (sends: SendRecord[]) => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (predicate(sends)) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
    });

  /** Every message stored in the room, in seq order, read through the API's history. */
  const history = async (url = options.url) => {
    const reader = url === options.url ? owner : createParleyClient({ url, token: ownerToken });
    const stored: { seq: number; clientMessageId: string }[] = [];
    for (let after = 0; ; ) {
      // Pages with `after` come newest first, like every page.
      const page = await reader.chat.messages.list.query({ roomId: room.id, after, limit: 100 });
      for (const item of page.items) stored.push({ seq: item.seq, clientMessageId: item.clientMessageId });
      if (!page.hasMore || page.items.length === 0) return stored.sort((a, b) => a.seq - b.seq);
      after = Math.max(...page.items.map((item) => item.seq));
    }
  };

  const messagesOf = (stream: Collector<RoomEvent>) =>
    stream.items.flatMap((event) => (event.type === "message.created" ? [event.message] : []));

  return {
    roomId: room.id,
    sends,
    until,
    /** Stops the senders and waits for the sends in flight. */
    async stopSending() {
      running = false;
      await Promise.all(loops);
    },
    /**
     * Waits (up to `timeoutMs`) until every subscriber has every committed message, then counts.
     * Call after stopSending, with the database up.
     */
    async settle(timeoutMs: number): Promise<DeliveryFigures> {
      const committed = await history();
      const committedIds = new Set(committed.map((m) => m.clientMessageId));
      const complete = (stream: Collector<RoomEvent>) =>
        stream.error() !== undefined || messagesOf(stream).length >= committed.length;
      await Promise.race([
        Promise.all(streams.map((stream) => stream.until(() => complete(stream)))),
        new Promise((resolve) => setTimeout(resolve, timeoutMs)),
      ]);
      const acked = sends.filter((send) => send.outcome === "ok");
      const ackedAt = new Map(acked.map((send) => [send.clientMessageId, send.endedAt]));
      const failed: Record<string, number> = {};
      for (const send of sends)
        if (send.outcome !== "ok") failed[send.outcome] = (failed[send.outcome] ?? 0) + 1;
      let lost = 0;
      let doubled = 0;
      let outOfOrder = 0;
      let longestStallMs = 0;
      const counts: number[] = [];
      for (const stream of streams) {
        const messages = messagesOf(stream);
        counts.push(messages.length);
        const seen = new Set<string>();
        let lastSeq = 0;
        let ordered = true;
        stream.items.forEach((event, j) => {
          if (event.type !== "message.created") return;
          const id = event.message.clientMessageId;
          if (seen.has(id)) doubled++;
          seen.add(id);
          if (event.message.seq <= lastSeq) ordered = false;
          lastSeq = event.message.seq;
          const ackTime = ackedAt.get(id);
          const arrival = stream.receivedAt[j];
          if (ackTime !== undefined && arrival !== undefined)
            longestStallMs = Math.max(longestStallMs, arrival - ackTime);
        });
        if (!ordered) outOfOrder++;
        for (const send of acked) if (!seen.has(send.clientMessageId)) lost++;
        // A committed message missing from a stream is lost too, acknowledged or not.
        for (const id of committedIds) if (!seen.has(id) && !ackedAt.has(id)) lost++;
      }
      return {
        sent: sends.length,
        acknowledged: acked.length,
        failed,
        committed: committed.length,
        committedWithoutAck: committed.filter((m) => !ackedAt.has(m.clientMessageId)).length,
        subscribers: streams.length,
        receivedPerSubscriber: { min: Math.min(...counts), max: Math.max(...counts) },
        lost,
        doubled,
        outOfOrder,
        failedStreams: streams.filter((stream) => stream.error() !== undefined).length,
        resumedStreams: streams.filter((stream) => stream.resumes() > 0).length,
        streamErrors: countBy(
          streams.flatMap((stream) => {
            const error = stream.error();
            return error ? [`${error.data?.code}: ${error.message}`] : [];
          }),
        ),
        longestStallMs,
      };
    },
    /** Acknowledged sends that are not in the room's history (should be none), read from `url`. */
    async ackedMissingFromHistory(url?: string): Promise<SendRecord[]> {
      const stored = new Set((await history(url)).map((m) => m.clientMessageId));
      return sends.filter((send) => send.outcome === "ok" && !stored.has(send.clientMessageId));
    },
    close() {
      running = false;
      for (const stream of streams) stream.unsubscribe();
    },
  };
}

export type ChatLoad = Awaited<ReturnType<typeof startChatLoad>>;

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}
