import { EventEmitter, once } from "node:events";
import { appRouter, createRouter, mergeRouters, publicProcedure } from "@parley/api";

/**
 * The app router plus subscriptions that stream on demand, for transport tests that need
 * events flowing before chat exists to produce them. The probe counts live generators.
 */
export function createFixtureRouter() {
  const probe = Object.assign(new EventEmitter(), { running: 0 });
  const track = () => {
    probe.running++;
    probe.emit("change");
  };
  const untrack = () => {
    probe.running--;
    probe.emit("change");
    probe.emit("ended");
  };
  const fixture = createRouter({
    /** Fails the way a bug would, with internals in the message. */
    explode: publicProcedure.query(() => {
      throw new Error('relation "secret" does not exist: SELECT * FROM secret WHERE token = $1');
    }),
    /** Yields a 4 KiB payload every millisecond until the subscriber goes. */
    flood: publicProcedure.subscription(async function* ({ signal }) {
      track();
      const payload = "x".repeat(4096);
      try {
        let n = 0;
        while (!signal?.aborted) {
          yield { n: n++, payload };
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      } finally {
        untrack();
      }
    }),
    /** Yields nothing; ends when the subscriber goes. */
    idle: publicProcedure.subscription(async function* ({ signal }) {
      track();
      try {
        if (signal && !signal.aborted) await once(signal, "abort");
        yield* [];
      } finally {
        untrack();
      }
    }),
  });
  return { router: mergeRouters(appRouter, createRouter({ fixture })), probe };
}

/** Resolves once `probe.running` satisfies the predicate. */
export async function runningWhen(
  probe: EventEmitter & { running: number },
  predicate: (running: number) => boolean,
): Promise<number> {
  while (!predicate(probe.running)) await once(probe, "change");
  return probe.running;
}
