import {
  createEmailWorker,
  createRecordingTransport,
  createSmtpTransport,
  createWebhookDeliverer,
  type EmailWorker,
  type MailTransport,
} from "@parley/core";
import type { Database } from "@parley/db";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { DEV_MAILBOX_PATH, linksIn } from "./dev-mailbox.ts";
import { webhookAddressesFor } from "./webhook-addresses.ts";

/** For logs: the SMTP URL without its password. */
export function describeSmtpUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

export interface EmailDelivery {
  worker: EmailWorker;
  transport: MailTransport;
  /** Stops the worker (after the pass in flight) and closes the transport. */
  close(): Promise<void>;
}

/** The transport SMTP_URL calls for and a worker draining the outbox through it, started. */
export function startEmailDelivery(options: {
  db: Database;
  log: Logger;
  config: Pick<Config, "publicOrigin" | "mail" | "emailWorker" | "webhooks" | "production">;
  /** The server shows recorded emails at /dev/mailbox: log each one's links and where to read it. */
  devMailbox?: boolean;
  /** The server's clock: a digest due later (mention emails) goes when this says it is due. */
  clock?: () => Date;
}): EmailDelivery {
  const { publicOrigin, mail } = options.config;
  const { enabled: _enabled, ...settings } = options.config.emailWorker;
  const log = options.log.child({ component: "email-worker" });
  const transport = mail.smtpUrl
    ? createSmtpTransport(mail.smtpUrl, { timeoutMs: Math.floor(settings.leaseMs / 2) })
    : createRecordingTransport(options.db, {
        onRecorded(email) {
          // The links carry sign-in tokens: written to the log in development only.
          if (!options.devMailbox)
            return log.info({ to: email.to, subject: email.subject }, "email recorded");
          log.info(
            {
              to: email.to,
              subject: email.subject,
              links: linksIn(email.text),
              mailbox: `${publicOrigin}${DEV_MAILBOX_PATH}/${email.id}`,
            },
            "email recorded: read it in the development mailbox",
          );
        },
      });
  const worker = createEmailWorker({
    ...settings,
    db: options.db,
    transport,
    log,
    from: mail.from,
    publicOrigin,
    ...(options.clock ? { clock: options.clock } : {}),
    // Webhook deliveries are jobs of the same outbox: this worker's leases, backoff and dead letters.
    webhooks: createWebhookDeliverer({
      db: options.db,
      addresses: webhookAddressesFor(options.config),
      settings: options.config.webhooks,
      ...(options.clock ? { clock: options.clock } : {}),
    }),
  });
  worker.start();
  log.info(
    {
      transport: mail.smtpUrl
        ? describeSmtpUrl(mail.smtpUrl)
        : options.devMailbox
          ? `recording: read the emails at ${publicOrigin}${DEV_MAILBOX_PATH}`
          : "recording (recorded_emails)",
      pollMs: settings.pollMs,
      leaseMs: settings.leaseMs,
    },
    "email worker started",
  );
  let closed: Promise<void> | undefined;
  return {
    worker,
    transport,
    close() {
      closed ??= worker.stop().then(() => transport.close());
      return closed;
    },
  };
}
