import { createWebhookAddresses, type WebhookAddresses } from "@parley/core";
import type { Config } from "./config.ts";

/**
 * Where webhooks may point, for the server (registration) and the worker (each delivery): the
 * same rule in both. In production private addresses are refused whatever WEBHOOKS_ALLOW_PRIVATE
 * says: a forgotten test setting must not open the internal network to anyone who gets admin.
 */
export function webhookAddressesFor(config: Pick<Config, "production" | "webhooks">): WebhookAddresses {
  return createWebhookAddresses({ allowPrivate: config.webhooks.allowPrivate && !config.production });
}
