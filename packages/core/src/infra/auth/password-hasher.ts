import { randomBytes } from "node:crypto";

// Loaded at the first password check, not at start: the native addon (and its libc probe), and
// with it the first argon2 run, which costs about 60 ms of CPU while its 19 MiB are first touched
// (later runs about 10 ms), and on a one-core start delayed /readyz by as much.
const importArgon2 = () => import("@node-rs/argon2");
let argon2: ReturnType<typeof importArgon2> | undefined;
function loadArgon2() {
  argon2 ??= importArgon2();
  return argon2;
}

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
  // Verified against when the email is unknown, so both paths cost one argon2 run. Made with the
  // first check of any kind (see importArgon2), so only the process's very first call, if it is
  // for an unknown email, waits for two runs.
  let dummyHash: Promise<string> | undefined;
  const dummy = () => {
    if (!dummyHash) {
      dummyHash = loadArgon2().then((a) => a.hash(randomBytes(16).toString("hex"), ARGON2_OPTIONS));
      // Awaited only by an unknown email's check, which gets the error; not unhandled meanwhile.
      dummyHash.catch(() => {});
    }
    return dummyHash;
  };
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
      dummy();
      return run(keys, async () => (await loadArgon2()).hash(password, ARGON2_OPTIONS));
    },
    /** Verifies against `passwordHash`, or against a dummy hash when it is null (unknown account). */
    async verify(passwordHash: string | null, password: string, keys: HashKeys = []): Promise<boolean> {
      const pending = dummy();
      const target = passwordHash ?? (await pending);
      const ok = await run(keys, async () => (await loadArgon2()).verify(target, password));
      return ok && passwordHash !== null;
    },
  };
}
