import { type Database, schema } from "@parley/db";
import type { RoomRole } from "@parley/db/enums";
import { and, eq } from "drizzle-orm";
import type { EventBus } from "../bus/event-bus.ts";

export type { RoomRole };

export const membershipTopic = "membership:changed";

export interface MembershipChanged {
  roomId: string;
  /** Absent: every member of the room (the room was deleted or changed visibility). */
  userId?: string;
}

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

export type MembershipCache = ReturnType<typeof createMembershipCache>;

/**
 * Room roles by (room, user), cached because every send and subscription checks one.
 * Changes are announced on the bus after commit, so every instance drops its stale entry.
 */
export function createMembershipCache(db: Database, bus: EventBus, now: () => number = Date.now) {
  const entries = new Map<string, { role: RoomRole | null; expires: number }>();
  const key = (roomId: string, userId: string) => `${roomId}:${userId}`;

  const unsubscribe = bus.subscribe(membershipTopic, (event) => {
    const { roomId, userId } = event as MembershipChanged;
    if (userId) {
      entries.delete(key(roomId, userId));
      return;
    }
    for (const k of entries.keys()) if (k.startsWith(`${roomId}:`)) entries.delete(k);
  });

  return {
    async role(roomId: string, userId: string): Promise<RoomRole | null> {
      const k = key(roomId, userId);
      const hit = entries.get(k);
      if (hit && hit.expires > now()) return hit.role;
      const [row] = await db
        .select({ role: schema.roomMembers.role })
        .from(schema.roomMembers)
        .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)));
      if (entries.size >= MAX_ENTRIES) entries.clear();
      entries.set(k, { role: row?.role ?? null, expires: now() + TTL_MS });
      return row?.role ?? null;
    },
    close() {
      unsubscribe();
      entries.clear();
    },
  };
}

export async function announceMembershipChange(bus: EventBus, change: MembershipChanged): Promise<void> {
  await bus.publish(membershipTopic, change);
}
