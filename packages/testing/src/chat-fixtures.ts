import { randomUUID } from "node:crypto";
import { type AppRouter, type ParleyClient, type RouterOutputs, TRPCClientError } from "@parley/client";
import { schema } from "@parley/db";
import { and, eq } from "drizzle-orm";
import { type SignedUp, signUpAt, type User } from "./accounts.ts";
import type { ServerUnderTest } from "./server-under-test.ts";

export type { User };
export type Room = RouterOutputs["chat"]["rooms"]["create"];
export type Message = RouterOutputs["chat"]["messages"]["send"];
export type RoomRole = "owner" | "moderator" | "member";

export interface Account {
  token: string;
  user: User;
  api: ParleyClient;
}

/** A new account on the in-process server, signed in: its token, the user and a client that sends the token. */
export function signUp(t: ServerUnderTest, displayName = "User"): Promise<SignedUp> {
  return signUpAt(t.url, displayName);
}

/** Gives the user the site-wide `admin` role (read from the database on every request). */
export async function makeAdmin(t: ServerUnderTest, userId: string): Promise<void> {
  await t.server.deps.db.update(schema.users).set({ role: "admin" }).where(eq(schema.users.id, userId));
}

/**
 * Makes the user a member of the room with the given role, straight in the database, and
 * announces the change like the services do so the server's membership cache drops its entry.
 */
export async function setRoomRole(t: ServerUnderTest, roomId: string, userId: string, role: RoomRole) {
  const { db, bus } = t.server.deps;
  const updated = await db
    .update(schema.roomMembers)
    .set({ role })
    .where(and(eq(schema.roomMembers.roomId, roomId), eq(schema.roomMembers.userId, userId)))
    .returning({ userId: schema.roomMembers.userId });
  if (updated.length === 0) await db.insert(schema.roomMembers).values({ roomId, userId, role });
  // membershipTopic in packages/core/src/domain/services/membership-cache.ts.
  await bus.publish("membership:changed", { roomId, userId });
}

/** An owner and the room they created. */
export async function roomWith(t: ServerUnderTest, isPrivate: boolean, name = "Room") {
  const owner = await signUp(t, "Owner");
  const room = await owner.api.chat.rooms.create.mutate({ name, isPrivate });
  return { owner, room };
}

/** Sends `content` with a fresh clientMessageId. */
export function send(api: ParleyClient, roomId: string, content: string): Promise<Message> {
  return api.chat.messages.send.mutate({ roomId, content, clientMessageId: randomUUID() });
}

/** The error a call rejected with (fails the test when it succeeded or threw something else). */
export async function errorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as TRPCClientError<AppRouter>;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** The tRPC error code a call rejected with. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return (await errorOf(promise)).data?.code;
}

/** The code and message a call rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  const error = await errorOf(promise);
  return { code: error.data?.code, message: error.message };
}

/** Each call's outcome by name: "ok" or the tRPC error code; compare with `every(calls, code)`. */
export async function outcomes(
  calls: Record<string, () => Promise<unknown>>,
): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(calls).map(async ([name, call]) => {
      try {
        await call();
        return [name, "ok"] as const;
      } catch (error) {
        if (error instanceof TRPCClientError) return [name, String(error.data?.code)] as const;
        throw error;
      }
    }),
  );
  return Object.fromEntries(entries);
}

/** The same outcome for every call of `calls`. */
export const every = (calls: Record<string, unknown>, outcome: string): Record<string, string> =>
  Object.fromEntries(Object.keys(calls).map((name) => [name, outcome]));

/** The field errors of a BAD_REQUEST (fails the test on any other outcome). */
export async function fieldErrorsOf(
  promise: Promise<unknown>,
): Promise<Record<string, string[] | undefined>> {
  const error = await errorOf(promise);
  if (error.data?.code !== "BAD_REQUEST") {
    throw new Error(`expected BAD_REQUEST, got ${error.data?.code}: ${error.message}`);
  }
  return error.data.zodError?.fieldErrors ?? {};
}

/**
 * A word no other test uses, letters only so Postgres's english parser keeps it whole.
 * Ends in "q", which the stemmer leaves alone.
 */
export function uniqueWord(prefix = "zx"): string {
  let word = prefix;
  for (let i = 0; i < 10; i++) word += String.fromCharCode(97 + Math.floor(Math.random() * 26));
  return `${word}q`;
}

export function must<T>(value: T | null | undefined, what = "value"): T {
  if (value === null || value === undefined) throw new Error(`missing ${what}`);
  return value;
}

/** Rows of the room's messages in the database, in seq order. */
export async function storedMessages(t: ServerUnderTest, roomId: string) {
  return t.server.deps.db
    .select()
    .from(schema.messages)
    .where(eq(schema.messages.roomId, roomId))
    .orderBy(schema.messages.seq);
}
