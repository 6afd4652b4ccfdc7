import { randomUUID } from "node:crypto";
import { ACCESS_RULES, appRouter, type CallerKind, procedureEntries, type RoomVisibility } from "@parley/api";
import type { SignedUp } from "@parley/testing/accounts";
import { makeAdmin, send, setRoomRole, signUp } from "@parley/testing/chat-fixtures";
import { callHttp, type ProcedureType, WsLane } from "@parley/testing/wire-calls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// The docs' "who" column prints each procedure's declared access (packages/api/src/access.ts);
// these tests call every procedure as every kind of caller and compare what happens with what
// the declared rule admits, so the docs cannot say one thing while the check does another.

let t: TestServer;
type Person = Exclude<CallerKind, "anonymous"> | "bystander" | "invitee";
let people: Record<Person, SignedUp>;

beforeAll(async () => {
  t = await startTestServer();
  const names: Person[] = [
    "outsider",
    "member",
    "author",
    "moderator",
    "owner",
    "admin",
    "bystander",
    "invitee",
  ];
  const accounts = await Promise.all(names.map((name) => signUp(t, name)));
  people = Object.fromEntries(names.map((name, i) => [name, accounts[i]])) as Record<Person, SignedUp>;
  await makeAdmin(t, people.admin.user.id);
});
afterAll(() => t.close());

const CALLERS: CallerKind[] = ["anonymous", "outsider", "member", "author", "moderator", "owner", "admin"];
/** What a rule refuses with: UNAUTHORIZED, FORBIDDEN, or NOT_FOUND where existence is hidden. */
const REFUSALS = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND"]);
/** Enforced by a middleware before the input is read: checked without input. */
const MIDDLEWARE_RULES = new Set(["anyone", "signed-in", "admin"]);

async function outcomeOf(type: ProcedureType, path: string, input: unknown, token: string | undefined) {
  const body = input === undefined ? undefined : JSON.stringify({ json: input });
  if (type !== "subscription") return (await callHttp(t.url, type, path, body, token)).code;
  const lane = new WsLane(t.url, token);
  try {
    return (await lane.call(type, path, body)).code;
  } finally {
    lane.close();
  }
}

const verdict = (code: string) => (REFUSALS.has(code) ? "refused" : "admitted");

/**
 * A room with one of each kind of member and a message by `author`: each call gets its own. A DM
 * has no roles: the owner (its opener), member, author and bystander are its plain members.
 */
async function scene(visibility: RoomVisibility) {
  const room =
    visibility === "dm"
      ? await people.owner.api.chat.dms.open.mutate({
          userIds: [people.member.user.id, people.author.user.id, people.bystander.user.id],
        })
      : await people.owner.api.chat.rooms.create.mutate({
          name: "Access",
          isPrivate: visibility === "private",
        });
  if (visibility !== "dm") {
    await setRoomRole(t, room.id, people.moderator.user.id, "moderator");
    await setRoomRole(t, room.id, people.member.user.id, "member");
    await setRoomRole(t, room.id, people.author.user.id, "member");
    await setRoomRole(t, room.id, people.bystander.user.id, "member");
  }
  const message = await send(people.author.api, room.id, "Hello");
  const report = await people.bystander.api.chat.moderation.report.mutate({
    messageId: message.id,
    reason: "Rude",
  });
  return { roomId: room.id, messageId: message.id, reportId: report.id };
}
type Scene = Awaited<ReturnType<typeof scene>>;

/** Input for each procedure whose rule a service enforces: add one with each new procedure. */
const roomInputs: Record<string, (s: Scene) => unknown> = {
  "chat.events": (s) => ({ roomId: s.roomId }),
  "chat.presence": (s) => ({ roomId: s.roomId }),
  "chat.typing": (s) => ({ roomId: s.roomId }),
  "chat.rooms.get": (s) => ({ roomId: s.roomId }),
  "chat.rooms.update": (s) => ({ roomId: s.roomId, name: "Renamed" }),
  "chat.rooms.delete": (s) => ({ roomId: s.roomId }),
  "chat.rooms.join": (s) => ({ roomId: s.roomId }),
  "chat.rooms.leave": (s) => ({ roomId: s.roomId }),
  "chat.rooms.invite": (s) => ({ roomId: s.roomId, userId: people.invitee.user.id }),
  "chat.rooms.kick": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id }),
  "chat.rooms.members": (s) => ({ roomId: s.roomId }),
  "chat.rooms.markRead": (s) => ({ roomId: s.roomId, seq: 1 }),
  "chat.messages.send": (s) => ({ roomId: s.roomId, content: "Hi", clientMessageId: randomUUID() }),
  "chat.attachments.create": (s) => ({
    roomId: s.roomId,
    name: "notes.txt",
    size: 5,
    contentType: "text/plain",
  }),
  "chat.messages.list": (s) => ({ roomId: s.roomId }),
  "chat.messages.edit": (s) => ({ messageId: s.messageId, content: "Edited" }),
  "chat.messages.delete": (s) => ({ messageId: s.messageId }),
  "chat.messages.react": (s) => ({ messageId: s.messageId, emoji: "👍" }),
  "chat.messages.unreact": (s) => ({ messageId: s.messageId, emoji: "👍" }),
  "chat.moderation.setRole": (s) => ({
    roomId: s.roomId,
    userId: people.bystander.user.id,
    role: "moderator",
  }),
  "chat.moderation.transferOwnership": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id }),
  "chat.moderation.mute": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id, durationMinutes: 5 }),
  "chat.moderation.unmute": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id }),
  "chat.moderation.ban": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id }),
  "chat.moderation.unban": (s) => ({ roomId: s.roomId, userId: people.bystander.user.id }),
  "chat.moderation.restrictions": (s) => ({ roomId: s.roomId }),
  "chat.moderation.report": (s) => ({ messageId: s.messageId, reason: "Spam" }),
  "chat.moderation.reports": (s) => ({ roomId: s.roomId }),
  "chat.moderation.resolveReport": (s) => ({ reportId: s.reportId, action: "dismiss" }),
  "chat.moderation.blocklist.list": (s) => ({ roomId: s.roomId }),
  "chat.moderation.blocklist.add": (s) => ({ roomId: s.roomId, word: "verboten" }),
  "chat.moderation.blocklist.remove": (s) => ({ roomId: s.roomId, word: "verboten" }),
  "chat.threads.list": (s) => ({ threadId: s.messageId }),
  "chat.threads.follow": (s) => ({ threadId: s.messageId }),
  "chat.threads.unfollow": (s) => ({ threadId: s.messageId }),
  "chat.threads.markRead": (s) => ({ threadId: s.messageId, seq: 1 }),
};

describe("each procedure's documented access is the access its check enforces", () => {
  it("anyone, signed-in and admin procedures refuse exactly the callers their rule refuses", async () => {
    const procedures = procedureEntries(appRouter).filter((p) =>
      MIDDLEWARE_RULES.has(p.meta.access ?? "anyone"),
    );
    expect(procedures.length).toBeGreaterThan(20);
    const expected: Record<string, Record<string, string>> = {};
    const actual: Record<string, Record<string, string>> = {};
    for (const { path, type, meta } of procedures) {
      const rule = ACCESS_RULES[meta.access ?? "anyone"];
      const callers = ["anonymous", "outsider", "admin"] as const;
      expected[path] = Object.fromEntries(
        callers.map((caller) => [caller, rule.admits(caller, "public") ? "admitted" : "refused"]),
      );
      actual[path] = Object.fromEntries(
        await Promise.all(
          callers.map(async (caller) => {
            // A session of its own: logout and the like end only it.
            const session =
              caller === "anonymous" ? null : await t.server.deps.sessions.create(people[caller].user.id);
            return [caller, verdict(await outcomeOf(type, path, undefined, session?.id))] as const;
          }),
        ),
      );
    }
    expect(actual).toEqual(expected);
  });

  // A fresh scene per call (seven callers, two visibilities, 31 procedures): minutes on a loaded machine.
  it("room and message procedures admit exactly the callers their rule admits, in public and private rooms", {
    timeout: 300_000,
  }, async () => {
    const procedures = procedureEntries(appRouter).filter(
      (p) => !MIDDLEWARE_RULES.has(p.meta.access ?? "anyone"),
    );
    expect(procedures.map((p) => p.path).sort()).toEqual(Object.keys(roomInputs).sort());
    const expected: Record<string, Record<string, string>> = {};
    const actual: Record<string, Record<string, string>> = {};
    for (const { path, type, meta } of procedures) {
      const rule = ACCESS_RULES[meta.access ?? "anyone"];
      const inputOf = roomInputs[path];
      if (!inputOf) throw new Error(`${path} has no entry in roomInputs`);
      for (const visibility of ["public", "private"] as const) {
        const key = `${path} (${visibility} room)`;
        expected[key] = Object.fromEntries(
          CALLERS.map((caller) => [caller, rule.admits(caller, visibility) ? "admitted" : "refused"]),
        );
        actual[key] = Object.fromEntries(
          await Promise.all(
            CALLERS.map(async (caller) => {
              const input = inputOf(await scene(visibility));
              const token = caller === "anonymous" ? undefined : people[caller].token;
              return [caller, verdict(await outcomeOf(type, path, input, token))] as const;
            }),
          ),
        );
      }
    }
    expect(actual).toEqual(expected);
  });

  // DMs are a room kind of their own here only for the callers who are not in them: a DM has no
  // roles (no owner or moderator to call as), its fixed members are refused room administration
  // with FORBIDDEN or BAD_REQUEST (chat-dms.test.ts), and the promise to check is that an admin
  // outside one learns exactly what an outsider learns: that no such room or message exists.
  it("in a DM, an outsider and an admin who is not a member get NOT_FOUND from every room and message procedure", {
    timeout: 300_000,
  }, async () => {
    const procedures = procedureEntries(appRouter).filter(
      (p) => !MIDDLEWARE_RULES.has(p.meta.access ?? "anyone"),
    );
    const outsiders = ["outsider", "admin"] as const;
    const expected: Record<string, Record<string, string>> = {};
    const actual: Record<string, Record<string, string>> = {};
    for (const { path, type, meta } of procedures) {
      const rule = ACCESS_RULES[meta.access ?? "anyone"];
      const inputOf = roomInputs[path];
      if (!inputOf) throw new Error(`${path} has no entry in roomInputs`);
      expected[path] = Object.fromEntries(
        outsiders.map((caller) => [caller, rule.admits(caller, "dm") ? "admitted" : "NOT_FOUND"]),
      );
      actual[path] = Object.fromEntries(
        await Promise.all(
          outsiders.map(async (caller) => {
            const input = inputOf(await scene("dm"));
            return [caller, await outcomeOf(type, path, input, people[caller].token)] as const;
          }),
        ),
      );
    }
    expect(actual).toEqual(expected);
  });
});
