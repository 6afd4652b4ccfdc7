import type { Database } from "@parley/db";
import type { UserRole } from "@parley/db/enums";
import type { EventBus } from "../bus/event-bus.ts";
import type { MembershipCache, RoomRole } from "./membership-cache.ts";
import type { ModerationCache } from "./moderation-cache.ts";
import type { PresenceTracker } from "./presence-tracker.ts";

export interface ChatDeps {
  db: Database;
  bus: EventBus;
  membership: MembershipCache;
  /** Mutes and blocked words, read on every send. */
  moderation: ModerationCache;
  presence: PresenceTracker;
  clock: () => Date;
}

/** Who is calling: enough to authorise without another query. */
export interface Caller {
  id: string;
  displayName: string;
  role: UserRole;
}

export type { RoomRole };
