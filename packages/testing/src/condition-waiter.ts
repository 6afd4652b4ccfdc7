/**
 * Awaiting a condition on state a test collects (events, outcomes): `until(predicate)` resolves
 * once the predicate holds, checked at once and at every `notify()` the collector calls after a
 * change. No polling, no sleeps.
 */
export function createConditionWaiter() {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const listener of [...listeners]) listener();
    },
    until(predicate: () => boolean): Promise<void> {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (predicate()) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}
