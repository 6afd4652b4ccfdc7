/**
 * Who may call a procedure. Each procedure declares one rule in its meta (`access`), set by the
 * builder it is made with (trpc.ts); the docs' "who" column prints the rule's `who`, and
 * apps/server/test/access.test.ts calls every procedure as every kind of caller and fails when
 * what happens is not what `admits` says. Each rule is enforced in one place:
 * - `anyone`, `signed-in`, `admin`: a middleware in trpc.ts (isAuthed, isAdmin), before the input.
 * - the room and message rules: the domain service, where the write commits (membership is
 *   locked FOR KEY SHARE there: a check before it could be overtaken by a kick). The
 *   `room-member` procedures that take a `roomId` also refuse early in a middleware, with the
 *   service's own rule function (requireMember), so a non-member spends no rate-limit point.
 * A site admin's reach into rooms they are not in stops at direct messages: to an admin outside
 * it a DM is NOT_FOUND on every path, as to any outsider (core's room-visibility.ts, one rule).
 */
export type Access = keyof typeof ACCESS_RULES;

/** A caller, as a room sees them: `author` is a plain member who wrote the message at hand. */
export type CallerKind = "anonymous" | "outsider" | "member" | "author" | "moderator" | "owner" | "admin";

/** A DM is private too, and more: no admin reads or moderates one they are not in. */
export type RoomVisibility = "public" | "private" | "dm";

interface AccessRule {
  /** The docs' "who" column. */
  who: string;
  /** Whether the rule lets this caller through, for a room (or a message's room) of this visibility. */
  admits(caller: CallerKind, room: RoomVisibility): boolean;
}

const signedIn = (caller: CallerKind) => caller !== "anonymous";
/** Holds a row in the room's members: the site's admins do not, unless they joined. */
const inRoom = (caller: CallerKind) =>
  caller === "member" || caller === "author" || caller === "moderator" || caller === "owner";
/** A site admin who is not a member: admitted where a rule names admins, except in a DM. */
const adminIn = (caller: CallerKind, room: RoomVisibility) => caller === "admin" && room !== "dm";
const moderates = (caller: CallerKind, room: RoomVisibility) =>
  caller === "moderator" || caller === "owner" || adminIn(caller, room);

export const ACCESS_RULES = {
  anyone: { who: "anyone", admits: () => true },
  "signed-in": { who: "signed in", admits: signedIn },
  admin: { who: "admin", admits: (caller) => caller === "admin" },
  "room-reader": {
    who: "signed in; a private room: its members and admins; a DM: its members only",
    admits: (caller, room) =>
      room === "public" ? signedIn(caller) : inRoom(caller) || adminIn(caller, room),
  },
  "room-joiner": {
    who: "signed in; a private room: by invitation only",
    admits: (caller, room) => (room === "public" ? signedIn(caller) : inRoom(caller)),
  },
  "room-member": { who: "room member", admits: inRoom },
  "room-moderator": { who: "room owner or moderator, admin (not in a DM)", admits: moderates },
  "room-owner": {
    who: "room owner, admin (not in a DM)",
    admits: (caller, room) => caller === "owner" || adminIn(caller, room),
  },
  "message-author": {
    who: "the message's author, while a room member",
    admits: (caller) => caller === "author",
  },
  "message-reporter": {
    who: "a room member other than the message's author",
    admits: (caller) => caller === "member" || caller === "moderator" || caller === "owner",
  },
  "message-author-or-moderator": {
    who: "the message's author while a room member, room owner or moderator, admin (not in a DM)",
    admits: (caller, room) => caller === "author" || moderates(caller, room),
  },
} satisfies Record<string, AccessRule>;

/** The rules the domain services enforce (not a middleware): what `roomProcedure` may name. */
export type RoomAccess = Exclude<Access, "anyone" | "signed-in" | "admin">;
