import { type Database, schema } from "@parley/db";
import { and, eq, isNull } from "drizzle-orm";
import type { EventBus } from "../bus/event-bus.ts";

export const moderationTopic = "moderation:changed";

export interface ModerationChanged {
  /** The room whose mutes or blocklist changed; null: the global blocklist. */
  roomId: string | null;
}

/** What a send is checked against in one room: its mutes and its blocked words. */
export interface RoomRules {
  /** Muted users and when their mute ends (ms since epoch; null: until lifted). Expired rows stay until the next load. */
  mutes: ReadonlyMap<string, number | null>;
  /** Matches a blocked word in normalised text; null when the list is empty. */
  blocked: RegExp | null;
}

const TTL_MS = 60_000;
const MAX_ROOMS = 50_000;

/** The text as the blocklist compares it: compatibility forms folded (full-width, ligatures), lower case. */
export function normaliseForBlocklist(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

function escapeRegExp(text: string) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whole words only: a word matches where no letter, digit or combining mark touches it, so
 * "ass" blocks "ass" but not "class" or "assistant" (substring matching refuses innocent text,
 * the Scunthorpe problem, and teaches people to misspell). One regex per list, built once per load.
 */
export function blocklistMatcher(words: readonly string[]): RegExp | null {
  if (words.length === 0) return null;
  const alternatives = [...words]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join("|");
  return new RegExp(`(?<![\\p{L}\\p{N}\\p{M}])(?:${alternatives})(?![\\p{L}\\p{N}\\p{M}])`, "u");
}

export type ModerationCache = ReturnType<typeof createModerationCache>;

/**
 * Per-room mutes and blocked words, and the global blocklist, cached because every send reads
 * them: a room with none costs two map lookups. Changes are announced on the bus after commit,
 * so every instance drops its stale entry (as membership-cache.ts does for roles).
 */
export function createModerationCache(db: Database, bus: EventBus, now: () => number = Date.now) {
  const rooms = new Map<string, RoomRules & { expires: number }>();
  let global: { blocked: RegExp | null; expires: number } | null = null;

  const unsubscribe = bus.subscribe(moderationTopic, (event) => {
    const roomId = (event as Partial<ModerationChanged>).roomId;
    if (typeof roomId === "string") {
      rooms.delete(roomId);
      return;
    }
    // The global list, or a resync after the bus lost messages: forget everything.
    global = null;
    if (roomId === undefined) rooms.clear();
  });

  return {
    /** The room's rules if they are cached and fresh, without waiting: undefined otherwise. */
    cachedRoom(roomId: string): RoomRules | undefined {
      const hit = rooms.get(roomId);
      return hit && hit.expires > now() ? hit : undefined;
    },
    /** The global blocklist if it is cached and fresh (null: no words), undefined otherwise. */
    cachedGlobalBlocklist(): RegExp | null | undefined {
      return global && global.expires > now() ? global.blocked : undefined;
    },
    async room(roomId: string): Promise<RoomRules> {
      const hit = rooms.get(roomId);
      if (hit && hit.expires > now()) return hit;
      const [words, mutes] = await Promise.all([
        db
          .select({ word: schema.blockedWords.word })
          .from(schema.blockedWords)
          .where(eq(schema.blockedWords.roomId, roomId)),
        db
          .select({ userId: schema.roomRestrictions.userId, expiresAt: schema.roomRestrictions.expiresAt })
          .from(schema.roomRestrictions)
          .where(and(eq(schema.roomRestrictions.roomId, roomId), eq(schema.roomRestrictions.kind, "mute"))),
      ]);
      const rules = {
        mutes: new Map(mutes.map((m) => [m.userId, m.expiresAt?.getTime() ?? null])),
        blocked: blocklistMatcher(words.map((w) => w.word)),
        expires: now() + TTL_MS,
      };
      if (rooms.size >= MAX_ROOMS) rooms.clear();
      rooms.set(roomId, rules);
      return rules;
    },
    async globalBlocklist(): Promise<RegExp | null> {
      if (global && global.expires > now()) return global.blocked;
      const words = await db
        .select({ word: schema.blockedWords.word })
        .from(schema.blockedWords)
        .where(isNull(schema.blockedWords.roomId));
      global = { blocked: blocklistMatcher(words.map((w) => w.word)), expires: now() + TTL_MS };
      return global.blocked;
    },
    close() {
      unsubscribe();
      rooms.clear();
      global = null;
    },
  };
}

export async function announceModerationChange(bus: EventBus, change: ModerationChanged): Promise<void> {
  await bus.publish(moderationTopic, change);
}
