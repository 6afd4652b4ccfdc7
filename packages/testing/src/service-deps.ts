import { randomUUID } from "node:crypto";
import {
  createInProcessBus,
  createMembershipCache,
  createModerationCache,
  createPresenceTracker,
} from "@parley/core";
import { type Database, schema } from "@parley/db";
import { afterAll } from "vitest";
import { createMemoryDatabase } from "./memory-database.ts";

/** Someone the services act for, as the session module describes a signed-in user. */
export interface Person {
  id: string;
  displayName: string;
  role: "user" | "admin";
}

/**
 * What the domain services take (`{ db, bus, membership, presence, clock }`, and the forms'
 * teamAddress) over a test database, with an in-process bus and a clock that moves only when
 * told to.
 */
export function serviceDeps(db: Database, start = new Date("2030-01-01T00:00:00.000Z")) {
  const bus = createInProcessBus();
  let now = start.getTime();
  const clock = () => new Date(now);
  const membership = createMembershipCache(db, bus, () => now);
  const moderation = createModerationCache(db, bus, () => now);
  const presence = createPresenceTracker(bus);
  return {
    db,
    bus,
    membership,
    moderation,
    presence,
    clock,
    teamAddress: "team@example.com",
    /** Moves the clock forward. */
    advance(ms: number) {
      now += ms;
    },
    /** A user row, straight in the database (services trust the caller they are given). */
    async person(displayName: string, role: Person["role"] = "user"): Promise<Person> {
      const id = randomUUID();
      await db.insert(schema.users).values({
        id,
        email: `${id}@example.com`,
        displayName,
        passwordHash: "not a hash: these people never sign in",
        role,
      });
      return { id, displayName, role };
    },
    close() {
      membership.close();
      moderation.close();
      presence.close();
    },
  };
}

export type ServiceDeps = ReturnType<typeof serviceDeps>;

/**
 * serviceDeps over an in-memory database of the test file's own, closed after the file's tests:
 * `const deps = await serviceDepsForFile();` at the top of a service test.
 */
export async function serviceDepsForFile(): Promise<ServiceDeps> {
  const database = await createMemoryDatabase();
  const deps = serviceDeps(database.db);
  afterAll(async () => {
    deps.close();
    await database.close();
  });
  return deps;
}
