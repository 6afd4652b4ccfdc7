/**
 * A subscriber's `ready` (see Subscription) with the functions that settle it: the first
 * acknowledgement resolves it, a refusal rejects it, and later calls change nothing.
 */
export function readySignal(): { ready: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve: () => void = () => {};
  let reject: (error: Error) => void = () => {};
  const ready = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });
  // A refusal nobody awaits (a workload that stopped waiting) is counted in `errors`, not thrown.
  ready.catch(() => {});
  return { ready, resolve, reject };
}
