export interface WebhookDeliverySettings {
  /** The whole request, connection to last byte read; a slower receiver counts as a failure. */
  timeoutMs: number;
  /** How much of a receiver's answer is read (for the job's last error); the rest is dropped. */
  maxResponseBytes: number;
}

export const defaultWebhookDeliverySettings: WebhookDeliverySettings = {
  timeoutMs: 10_000,
  maxResponseBytes: 4_096,
};
