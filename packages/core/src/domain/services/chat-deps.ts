import type { Database } from "@parley/db";
import type { UserRole } from "@parley/db/enums";
import type { EventBus } from "../bus/event-bus.ts";
import type { HistoryPageCache } from "./history-page-cache.ts";
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
  /** Mention emails (batching window, unsubscribe signing); without it mentions queue no email. */
  mentionEmails?: MentionEmailSettings;
  /** The newest pages of history as each caller read them; without it every page is read. */
  historyPages?: HistoryPageCache;
}

export interface MentionEmailSettings {
  /** At most one mention email per user per this many milliseconds. */
  windowMs: number;
  /** Signs unsubscribe links (HMAC-SHA256). */
  secret: string;
  /** Base of the links in the email. */
  publicOrigin: string;
}

/** Who is calling: enough to authorise without another query. */
export interface Caller {
  id: string;
  displayName: string;
  role: UserRole;
}

export type { RoomRole };
