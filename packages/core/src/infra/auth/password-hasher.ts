import { randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";

export class HasherBusyError extends Error {
  constructor() {
    super("Too many password checks in progress");
    this.name = "HasherBusyError";
  }
}

export interface PasswordHasherOptions {
  /** argon2 runs at most this many at once: each takes ~19 MiB and a core. */
  concurrency: number;
  /** Calls waiting beyond this, all keys together, are refused instead of queued without bound. */
  maxQueue: number;
  /** Calls running or waiting for any one key (an account, a client address) beyond this are refused. */
  maxPerKey?: number;
}

// OWASP's argon2id baseline: 19 MiB, 2 iterations, 1 lane.
const ARGON2_OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

/**
 * Who a hash is for, e.g. `["account:ada@example.com", "ip:192.0.2.1"]`. Calls wait in one lane
 * per first key, served round-robin, and each key may hold only `maxPerKey` calls: one account or
 * one address sending wrong passwords cannot fill the queue and starve everyone else's logins.
 */
export type HashKeys = readonly string[];

export function createPasswordHasher(options: PasswordHasherOptions) {
  const maxPerKey = options.maxPerKey ?? Number.POSITIVE_INFINITY;
  // Verified against when the email is unknown, so both paths cost one argon2 run.
  const dummyHash = hash(randomBytes(16).toString("hex"), ARGON2_OPTIONS);
  // A Map iterates in insertion order: a lane served goes to the back, which is the round-robin.
  const lanes = new Map<string, (() => void)[]>();
  const held = new Map<string, number>();
  let running = 0;
  let waiting = 0;

  function startNext() {
    while (running < options.concurrency) {
      const next = lanes.entries().next();
      if (next.done) return;
      const [lane, queue] = next.value;
      lanes.delete(lane);
      const start = queue.shift();
      if (queue.length > 0) lanes.set(lane, queue);
      if (!start) continue;
      waiting--;
      running++;
      start();
    }
  }

  function release(keys: HashKeys) {
    running--;
    for (const key of keys) {
      const count = (held.get(key) ?? 1) - 1;
      if (count === 0) held.delete(key);
      else held.set(key, count);
    }
    startNext();
  }

  function run<T>(keys: HashKeys, task: () => Promise<T>): Promise<T> {
    const mustWait = running >= options.concurrency || waiting > 0;
    if (mustWait && waiting >= options.maxQueue) return Promise.reject(new HasherBusyError());
    if (keys.some((key) => (held.get(key) ?? 0) >= maxPerKey)) return Promise.reject(new HasherBusyError());
    for (const key of keys) held.set(key, (held.get(key) ?? 0) + 1);
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => release(keys));
      };
      const lane = keys[0] ?? "";
      const queue = lanes.get(lane);
      if (queue) queue.push(start);
      else lanes.set(lane, [start]);
      waiting++;
      startNext();
    });
  }

  return {
    hash(password: string, keys: HashKeys = []) {
      return run(keys, () => hash(password, ARGON2_OPTIONS));
    },
    /** Verifies against `passwordHash`, or against a dummy hash when it is null (unknown account). */
    async verify(passwordHash: string | null, password: string, keys: HashKeys = []): Promise<boolean> {
      const target = passwordHash ?? (await dummyHash);
      const ok = await run(keys, () => verify(target, password));
      return ok && passwordHash !== null;
    },
  };
}
