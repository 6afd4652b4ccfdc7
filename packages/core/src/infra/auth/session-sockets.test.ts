import { EventEmitter, once } from "node:events";
import type { Database } from "@parley/db";
import { describe, expect, it, vi } from "vitest";
import { publishUsersChanged, topics } from "../../domain/bus/event-bus.ts";
import { createInProcessBus } from "../bus/in-process-bus.ts";
import type { ConnectionState } from "./connection-state.ts";
import {
  createSessionSockets,
  RIGHTS_CHANGED_CLOSE_CODE,
  SESSION_ENDED_CLOSE_CODE,
  TOO_MANY_SOCKETS_CLOSE_CODE,
} from "./session-sockets.ts";

/** A socket that records how it was closed, and emits `close` as ws does. */
class RecordingSocket extends EventEmitter {
  closedWith: number | null = null;
  close(code?: number) {
    if (this.closedWith !== null) return;
    this.closedWith = code ?? 1000;
    this.emit("close");
  }
}

const connection = (): ConnectionState => ({ id: "c", activeSubscriptions: 0, revoked: false, calls: null });
const user = (id: string) => ({ id, role: "admin" as const, emailVerified: true });

// Only read when the bus resynchronises, which these tests never make it do.
const unusedDb = {} as Database;

function setUp(maxPerUser = 20) {
  const bus = createInProcessBus();
  return { bus, sockets: createSessionSockets(bus, { maxPerUser, db: unusedDb }) };
}

describe("session sockets", () => {
  it("closes a socket whose user's rights changed while its session was being validated", async () => {
    const { bus, sockets } = setUp();
    const racing = new RecordingSocket();
    const other = new RecordingSocket();
    const trackedRacing = sockets.track("s1", racing, connection());
    const trackedOther = sockets.track("s2", other, connection());

    await publishUsersChanged(bus, ["u1"]);
    trackedRacing.admit(user("u1"));
    trackedOther.admit(user("u2"));

    expect(racing.closedWith).toBe(RIGHTS_CHANGED_CLOSE_CODE);
    expect(other.closedWith).toBeNull();
  });

  it("closes only the changed user's sockets, once admitted", async () => {
    const { bus, sockets } = setUp();
    const mine = [new RecordingSocket(), new RecordingSocket()];
    const theirs = new RecordingSocket();
    for (const [i, socket] of mine.entries()) sockets.track(`m${i}`, socket, connection()).admit(user("u1"));
    sockets.track("t", theirs, connection()).admit(user("u2"));

    await publishUsersChanged(bus, ["u1"]);

    expect(mine.map((s) => s.closedWith)).toEqual([RIGHTS_CHANGED_CLOSE_CODE, RIGHTS_CHANGED_CLOSE_CODE]);
    expect(theirs.closedWith).toBeNull();
    expect(sockets.size()).toBe(1);
  });

  it("counts a user's sockets against the cap and frees a place when one closes", () => {
    const { sockets } = setUp(2);
    const open = [new RecordingSocket(), new RecordingSocket()];
    for (const socket of open) sockets.track("s", socket, connection()).admit(user("u1"));
    const third = new RecordingSocket();
    sockets.track("s", third, connection()).admit(user("u1"));
    expect(third.closedWith).toBe(TOO_MANY_SOCKETS_CLOSE_CODE);

    open[0]?.close();
    const fourth = new RecordingSocket();
    sockets.track("s", fourth, connection()).admit(user("u1"));
    expect(fourth.closedWith).toBeNull();
  });

  it("refuses calls at once but closes only after the calls running at the revocation answered", async () => {
    const { bus, sockets } = setUp();
    const socket = new RecordingSocket();
    const state = connection();
    sockets.track("s", socket, state).admit(user("u1"));
    let answer = () => {};
    const running = new Promise<void>((resolve) => {
      answer = resolve;
    });
    state.calls = new Set([running]);

    await bus.publish(topics.revokedSessions, { sessionIds: ["s"] });
    expect(state.revoked).toBe(true);
    expect(socket.closedWith).toBeNull();
    // A call started after the revocation is not waited for.
    state.calls.add(new Promise(() => {}));

    answer();
    await once(socket, "close");
    expect(socket.closedWith).toBe(SESSION_ENDED_CLOSE_CODE);
  });

  it("closes a revoked socket whose running call hangs once the grace has passed", async () => {
    vi.useFakeTimers();
    try {
      const { bus, sockets } = setUp();
      const socket = new RecordingSocket();
      const state = connection();
      sockets.track("s", socket, state).admit(user("u1"));
      state.calls = new Set([new Promise(() => {})]);

      await bus.publish(topics.revokedSessions, { sessionIds: ["s"] });
      vi.advanceTimersByTime(4_999);
      expect(socket.closedWith).toBeNull();
      vi.advanceTimersByTime(1);
      expect(socket.closedWith).toBe(SESSION_ENDED_CLOSE_CODE);
    } finally {
      vi.useRealTimers();
    }
  });
});
