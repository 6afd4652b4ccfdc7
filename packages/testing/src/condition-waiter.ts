/**
 * Awaiting a condition on state a test collects (events, outcomes): `until(predicate)` resolves
 * once the predicate holds, checked at once and at every `notify()` the collector calls after a
 * change. No polling, no sleeps.
 */
export function createConditionWaiter() {
  const listeners = new Set<() => void>();
  const until = (predicate: () => boolean): Promise<void> =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (predicate()) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
    });
  return {
    notify() {
      for (const listener of [...listeners]) listener();
    },
    until,
    /** The first of `items` (a list the collector appends to) that `match` accepts, once there is one. */
    first<T>(items: readonly T[], match: (item: T) => boolean): Promise<T> {
      return new Promise<T>((resolve) => {
        void until(() => {
          const found = items.find(match);
          if (found === undefined) return false;
          resolve(found);
          return true;
        });
      });
    },
  };
}

/**
 * `promise`, or a rejection naming `label` after `ms`: a bound shorter than the test's timeout
 * on each step of a long scenario, so a hang reports the step it stuck at instead of only
 * "Test timed out".
 */
export function within<T>(ms: number, label: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stuck at: ${label} (not done after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
