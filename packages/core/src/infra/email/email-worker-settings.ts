export interface EmailWorkerSettings {
  /** Wait between passes when the outbox had nothing due. */
  pollMs: number;
  /** Jobs claimed (and sent concurrently) per pass. */
  batchSize: number;
  /** How long a claimed job belongs to this worker; past it another worker may take it over. */
  leaseMs: number;
  /** First retry delay; doubles on every failed attempt, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const defaultEmailWorkerSettings: EmailWorkerSettings = {
  pollMs: 1_000,
  batchSize: 10,
  leaseMs: 60_000,
  backoffBaseMs: 30_000,
  backoffMaxMs: 60 * 60 * 1000,
};
