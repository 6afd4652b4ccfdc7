import { randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import pLimit from "p-limit";

export class HasherBusyError extends Error {
  constructor() {
    super("Too many password checks in progress");
    this.name = "HasherBusyError";
  }
}

export interface PasswordHasherOptions {
  /** argon2 runs at most this many at once: each takes ~19 MiB and a core. */
  concurrency: number;
  /** Calls waiting beyond this are refused instead of queued without bound. */
  maxQueue: number;
}

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

export function createPasswordHasher(options: PasswordHasherOptions) {
  const limit = pLimit(options.concurrency);
  // Verified against when the email is unknown, so both paths cost one argon2 run.
  const dummyHash = hash(randomBytes(16).toString("hex"), ARGON2_OPTIONS);

  function run<T>(task: () => Promise<T>): Promise<T> {
    if (limit.pendingCount >= options.maxQueue) return Promise.reject(new HasherBusyError());
    return limit(task);
  }

  return {
    hash(password: string) {
      return run(() => hash(password, ARGON2_OPTIONS));
    },
    /** Verifies against `passwordHash`, or against a dummy hash when it is null (unknown account). */
    async verify(passwordHash: string | null, password: string): Promise<boolean> {
      const target = passwordHash ?? (await dummyHash);
      const ok = await run(() => verify(target, password));
      return ok && passwordHash !== null;
    },
  };
}
