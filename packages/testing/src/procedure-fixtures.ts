import { appRouter, procedureEntries } from "@parley/api";
import { contactSubmitInput, demoSubmitInput, emoji, webhookUrl } from "@parley/api/schemas";
import { schema } from "@parley/db";
import fc from "fast-check";
import superjson from "superjson";
import type { z } from "zod";
import { GOOD_PASSWORD } from "./accounts.ts";
import { type Account, makeAdmin, roomWith, send, signUp } from "./chat-fixtures.ts";
import type { ServerUnderTest } from "./server-under-test.ts";
import type { ProcedureType } from "./wire-calls.ts";
import { type ArbitraryOptions, validArbitrary } from "./zod-arbitraries.ts";

type Schema = z.core.$ZodType;

export interface ProcedureInfo {
  path: string;
  type: ProcedureType;
  /** The procedure's input parsers, in order: tRPC runs each on the raw input and merges what they return. */
  inputs: Schema[];
}

/** Every procedure of the app router, read from the router itself, so none can be left out. */
export function listProcedures(): ProcedureInfo[] {
  return procedureEntries(appRouter).map(({ path, type, inputs }) => ({
    path,
    type,
    inputs: inputs.map((parser) => {
      if (typeof parser !== "object" || parser === null || !("_zod" in parser)) {
        throw new Error(`${path}: an input parser that is not a zod 4 schema`);
      }
      return parser as Schema;
    }),
  }));
}

/** Accounts, rooms, messages and records the fixtures hand out as real ids. */
export interface FuzzWorld {
  /** Owns the rooms and writes the messages. */
  member: Account;
  /** Signed in, in no room: joins and leaves. */
  other: Account;
  admin: Account;
  /** Users anyone may invite, kick or change the role of; never the three above. */
  bystanders: string[];
  emails: string[];
  rooms: string[];
  /** Rooms rooms.delete may delete. */
  disposableRooms: string[];
  messages: string[];
  /** Messages messages.delete may delete. */
  disposableMessages: string[];
  submissions: string[];
  jobs: string[];
  /** Webhooks (global and on the public room) for update, delete and test. */
  webhooks: string[];
  /** Open reports on the public room's messages, for resolveReport. */
  reports: string[];
  /** A new session of a throwaway user, for calls that end the caller's session. */
  freshToken(): Promise<string>;
}

export async function createFuzzWorld(t: ServerUnderTest): Promise<FuzzWorld> {
  const { owner: member, room } = await roomWith(t, false, "Fuzz public");
  const other = await signUp(t, "Other");
  const admin = await signUp(t, "Admin");
  await makeAdmin(t, admin.user.id);
  const bystanderAccounts = [await signUp(t, "Bystander"), await signUp(t, "Bystander")];
  const privateRoom = await member.api.chat.rooms.create.mutate({ name: "Fuzz private", isPrivate: true });
  const disposableRooms = [];
  for (let i = 0; i < 4; i++) {
    disposableRooms.push(
      (await member.api.chat.rooms.create.mutate({ name: `Disposable ${i}`, isPrivate: false })).id,
    );
  }
  const messages = [];
  const disposableMessages = [];
  for (let i = 0; i < 4; i++) {
    messages.push((await send(member.api, room.id, `Message ${i}`)).id);
    disposableMessages.push((await send(member.api, privateRoom.id, `Disposable ${i}`)).id);
  }
  for (let i = 0; i < 2; i++) {
    await t.client().forms.contact.submit.mutate({
      name: "Fuzz",
      email: `fuzz${i}@example.com`,
      subject: "Hello",
      message: "A message long enough to pass.",
    });
  }
  const [reporter] = bystanderAccounts;
  const reports = [];
  if (reporter) {
    await reporter.api.chat.rooms.join.mutate({ roomId: room.id });
    for (const messageId of messages.slice(0, 2)) {
      reports.push((await reporter.api.chat.moderation.report.mutate({ messageId, reason: "Fuzz" })).id);
    }
  }
  const webhooks = [];
  for (const roomId of [undefined, room.id]) {
    const hook = await admin.api.admin.webhooks.create.mutate({
      url: "http://127.0.0.1:9/fuzz",
      eventTypes: ["message.created"],
      ...(roomId ? { roomId } : {}),
    });
    webhooks.push(hook.id);
  }
  const db = t.server.deps.db;
  const submissions = (await db.select({ id: schema.formSubmissions.id }).from(schema.formSubmissions)).map(
    (row) => row.id,
  );
  const jobs = (await db.select({ id: schema.emailOutbox.id }).from(schema.emailOutbox)).map((row) => row.id);
  const users = (await db.select({ email: schema.users.email }).from(schema.users)).map((row) => row.email);
  const throwaway = await signUp(t, "Throwaway");
  return {
    member,
    other,
    admin,
    bystanders: bystanderAccounts.map((account) => account.user.id),
    emails: users,
    rooms: [room.id, privateRoom.id],
    disposableRooms,
    messages,
    disposableMessages,
    submissions,
    jobs,
    webhooks,
    reports,
    freshToken: async () => {
      const session = await t.server.deps.sessions.create(throwaway.user.id);
      if (!session) throw new Error("a session without a password condition is always created");
      return session.id;
    },
  };
}

export type Caller = "member" | "other" | "admin" | "fresh";

export interface ProcedureFixture {
  /** Who calls when signed in (the fuzz also calls anonymously). */
  caller: Caller;
  /** Real ids (mostly) for positions that name a row, so valid input reaches the services. */
  overrides?: (world: FuzzWorld) => Record<string, fc.Arbitrary<unknown>>;
}

/** Mostly one of the given ids, sometimes a random one (NOT_FOUND paths). */
const oneOf = (ids: string[]) =>
  fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ids) }, { weight: 1, arbitrary: fc.uuid() });
const inRooms = (world: FuzzWorld) => ({ roomId: oneOf(world.rooms) });
const onMessages = (world: FuzzWorld) => ({ messageId: oneOf(world.messages) });
// The world's messages are top-level: each is a thread root.
const onThreads = (world: FuzzWorld) => ({ threadId: oneOf(world.messages) });
const aRandomString = fc.string({ maxLength: 40 });
const aBystanderOrNot = (world: FuzzWorld) => ({
  userId: fc.oneof(fc.constantFrom(...world.bystanders), aRandomString),
});
const fuzzBlockedWords = fc.constantFrom("zzfuzzblockedq", "Ｚzfuzzblockedq", "zzfuzz blockedq");
const onBystanders = (world: FuzzWorld) => ({
  ...inRooms(world),
  ...aBystanderOrNot(world),
});

/**
 * One entry per procedure of the app router: the fuzz test fails for a procedure without one, so
 * a procedure cannot be added without fuzz coverage.
 */
export const procedureFixtures: Record<string, ProcedureFixture> = {
  "auth.register": { caller: "member" },
  // A login ends the session it was called with (no fixation): never the member's.
  "auth.login": {
    caller: "fresh",
    overrides: (world) => ({
      email: fc.oneof(fc.constantFrom(...world.emails), aRandomString),
      password: fc.oneof(fc.constant(GOOD_PASSWORD), aRandomString),
    }),
  },
  "auth.logout": { caller: "fresh" },
  "auth.me": { caller: "member" },
  "auth.verifyEmail": { caller: "member" },
  "auth.resendVerification": { caller: "member" },
  "auth.requestPasswordReset": {
    caller: "member",
    overrides: (world) => ({ email: fc.constantFrom(...world.emails) }),
  },
  "auth.resetPassword": { caller: "member" },
  // A random current password: refused (FORBIDDEN), so the member's sessions survive.
  "auth.changePassword": { caller: "member" },
  "auth.sessions.list": { caller: "member" },
  "auth.sessions.revoke": { caller: "member" },
  "auth.changeHandle": { caller: "member" },
  "auth.preferences": { caller: "member" },
  "auth.setMentionEmails": { caller: "member" },
  "chat.rooms.create": { caller: "member" },
  "chat.rooms.list": { caller: "member" },
  "chat.rooms.get": { caller: "member", overrides: inRooms },
  "chat.rooms.update": { caller: "member", overrides: inRooms },
  "chat.rooms.delete": { caller: "member", overrides: (world) => ({ roomId: oneOf(world.disposableRooms) }) },
  "chat.rooms.join": { caller: "other", overrides: inRooms },
  "chat.rooms.leave": { caller: "other", overrides: inRooms },
  "chat.rooms.invite": {
    caller: "member",
    overrides: (world) => ({
      ...inRooms(world),
      userId: fc.oneof(fc.constantFrom(...world.bystanders), aRandomString),
    }),
  },
  "chat.rooms.kick": {
    caller: "member",
    overrides: (world) => ({
      ...inRooms(world),
      userId: fc.oneof(fc.constantFrom(...world.bystanders), aRandomString),
    }),
  },
  "chat.rooms.members": { caller: "member", overrides: inRooms },
  "chat.rooms.markRead": { caller: "member", overrides: inRooms },
  "chat.messages.send": {
    caller: "member",
    overrides: (world) => ({
      ...inRooms(world),
      parentId: fc.option(oneOf(world.messages), { nil: undefined }),
    }),
  },
  "chat.messages.list": { caller: "member", overrides: inRooms },
  "chat.attachments.create": { caller: "member", overrides: inRooms },
  "chat.messages.edit": { caller: "member", overrides: onMessages },
  "chat.messages.delete": {
    caller: "member",
    overrides: (world) => ({ messageId: oneOf(world.disposableMessages) }),
  },
  "chat.messages.react": { caller: "member", overrides: onMessages },
  "chat.messages.unreact": { caller: "member", overrides: onMessages },
  "chat.messages.search": { caller: "member", overrides: inRooms },
  "chat.mentions.list": { caller: "member" },
  "chat.mentions.unreadCount": { caller: "member" },
  "chat.mentions.markRead": { caller: "member", overrides: onMessages },
  "chat.threads.list": { caller: "member", overrides: onThreads },
  "chat.threads.follow": { caller: "member", overrides: onThreads },
  "chat.threads.unfollow": { caller: "member", overrides: onThreads },
  "chat.threads.followed": { caller: "member" },
  "chat.threads.markRead": { caller: "member", overrides: onThreads },
  "chat.events": { caller: "member", overrides: inRooms },
  "chat.typing": { caller: "member", overrides: inRooms },
  "chat.presence": { caller: "member", overrides: inRooms },
  "chat.dms.open": {
    caller: "member",
    overrides: (world) => ({
      userIds: fc.array(fc.oneof(fc.constantFrom(...world.bystanders), aRandomString), {
        minLength: 1,
        maxLength: 3,
      }),
    }),
  },
  "chat.dms.list": { caller: "member" },
  "chat.blocks.block": { caller: "member", overrides: aBystanderOrNot },
  "chat.blocks.unblock": { caller: "member", overrides: aBystanderOrNot },
  "chat.blocks.list": { caller: "member" },
  "chat.moderation.setRole": { caller: "member", overrides: onBystanders },
  // Disposable rooms only: the member keeps owning the rooms the other fixtures use.
  "chat.moderation.transferOwnership": {
    caller: "member",
    overrides: (world) => ({ ...onBystanders(world), roomId: oneOf(world.disposableRooms) }),
  },
  "chat.moderation.mute": { caller: "member", overrides: onBystanders },
  "chat.moderation.unmute": { caller: "member", overrides: onBystanders },
  "chat.moderation.ban": { caller: "member", overrides: onBystanders },
  "chat.moderation.unban": { caller: "member", overrides: onBystanders },
  "chat.moderation.restrictions": { caller: "member", overrides: inRooms },
  "chat.moderation.report": { caller: "other", overrides: onMessages },
  "chat.moderation.reports": { caller: "member", overrides: inRooms },
  "chat.moderation.resolveReport": {
    caller: "member",
    overrides: (world) => ({ reportId: oneOf(world.reports) }),
  },
  "chat.moderation.blocklist.list": { caller: "member", overrides: inRooms },
  // Room lists only on the disposable rooms: a random blocked word must not refuse other fixtures' sends.
  "chat.moderation.blocklist.add": {
    caller: "member",
    overrides: (world) => ({ roomId: oneOf(world.disposableRooms) }),
  },
  "chat.moderation.blocklist.remove": {
    caller: "member",
    overrides: (world) => ({ roomId: oneOf(world.disposableRooms) }),
  },
  "forms.contact.submit": { caller: "member" },
  "forms.demo.submit": { caller: "member" },
  "forms.submissions.list": { caller: "admin" },
  "forms.submissions.get": { caller: "admin", overrides: (world) => ({ id: oneOf(world.submissions) }) },
  "forms.submissions.update": { caller: "admin", overrides: (world) => ({ id: oneOf(world.submissions) }) },
  "admin.users.list": { caller: "admin" },
  "admin.users.setRole": {
    caller: "admin",
    overrides: (world) => ({ userId: fc.oneof(fc.constantFrom(...world.bystanders), aRandomString) }),
  },
  "admin.jobs.list": { caller: "admin" },
  "admin.blocklist.list": { caller: "admin" },
  // Words no other fixture sends: a random global word could refuse every later send in the run.
  "admin.blocklist.add": { caller: "admin", overrides: () => ({ word: fuzzBlockedWords }) },
  "admin.blocklist.remove": { caller: "admin", overrides: () => ({ word: fuzzBlockedWords }) },
  "admin.jobs.retry": { caller: "admin", overrides: (world) => ({ id: oneOf(world.jobs) }) },
  "admin.audit.list": { caller: "admin" },
  "admin.webhooks.list": { caller: "admin" },
  "admin.webhooks.create": {
    caller: "admin",
    overrides: (world) => ({ roomId: fc.option(oneOf(world.rooms), { nil: undefined }) }),
  },
  "admin.webhooks.update": { caller: "admin", overrides: (world) => ({ id: oneOf(world.webhooks) }) },
  "admin.webhooks.delete": { caller: "admin", overrides: (world) => ({ id: oneOf(world.webhooks) }) },
  "admin.webhooks.test": { caller: "admin", overrides: (world) => ({ id: oneOf(world.webhooks) }) },
};

export function fixtureOf(path: string): ProcedureFixture {
  const fixture = procedureFixtures[path];
  if (!fixture) throw new Error(`${path} has no entry in procedureFixtures: add one so the fuzz covers it`);
  return fixture;
}

// Values whose refinements a schema walk cannot see.
const known = new Map<Schema, fc.Arbitrary<unknown>>([
  [emoji, fc.constantFrom("👍", "🎉", "❤️", "😀", "👨‍👩‍👧", "🏳️‍🌈", "👍🏽")],
  [
    demoSubmitInput.shape.timezone,
    fc.option(fc.constantFrom("Europe/Paris", "UTC", "America/New_York", "Asia/Kolkata", ""), {
      nil: undefined,
    }),
  ],
  [demoSubmitInput.shape.phone, fc.option(fc.stringMatching(/^\+?[0-9]{6,15}$/), { nil: undefined })],
  // A filled honeypot drops the submission: mostly left empty, so valid input gets stored.
  // Loopback on the discard port (tests allow private addresses; nothing listens, nothing resolves).
  [webhookUrl, fc.constantFrom("http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://localhost:9/a?b=c")],
  [contactSubmitInput.shape.website, fc.option(aRandomString, { nil: undefined, freq: 5 })],
]);

/** Inputs a procedure is meant to accept: its parsers' arbitraries, merged, ids from the world. */
export function validInput(procedure: ProcedureInfo, world: FuzzWorld): fc.Arbitrary<unknown> {
  const options: ArbitraryOptions = { known, overrides: fixtureOf(procedure.path).overrides?.(world) ?? {} };
  if (procedure.inputs.length === 0) return fc.constant(undefined);
  return fc.tuple(...procedure.inputs.map((input) => validArbitrary(input, options))).map((parts) => {
    const objects = parts.filter((part): part is object => typeof part === "object" && part !== null);
    return objects.length === 0 ? parts[0] : Object.assign({}, ...objects);
  });
}

/**
 * What the server must do with this wire input, judged by the procedure's own schemas (and the
 * same superjson): true when every parser accepts it, false when tRPC must refuse it.
 */
export function acceptsWireInput(procedure: ProcedureInfo, body: string | undefined): boolean {
  if (procedure.inputs.length === 0) return true;
  let input: unknown;
  try {
    input = body === undefined ? undefined : superjson.deserialize(JSON.parse(body));
  } catch {
    return false;
  }
  return procedure.inputs.every((parser) => (parser as z.ZodType).safeParse(input).success);
}

/** The token the fixture's caller signs in with. */
export async function tokenOf(world: FuzzWorld, caller: Caller): Promise<string> {
  if (caller === "fresh") return world.freshToken();
  return world[caller].token;
}
