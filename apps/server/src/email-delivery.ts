import {
  createEmailWorker,
  createRecordingTransport,
  createSmtpTransport,
  defaultEmailWorkerSettings,
  type EmailWorker,
  type EmailWorkerSettings,
  type MailTransport,
} from "@parley/core";
import type { Database } from "@parley/db";
import type { Logger } from "pino";
import { DEV_MAILBOX_PATH, linksIn } from "./dev-mailbox.ts";

export interface MailOptions {
  /** smtp:// or smtps:// with credentials; without it, emails are recorded in recorded_emails. */
  smtpUrl?: string;
  /** The From of every email; default "Parley <no-reply@host of the public origin>". */
  from?: string;
  /** Where form notifications go; default team@host of the public origin. */
  teamAddress?: string;
}

export type EmailWorkerOptions = Partial<EmailWorkerSettings> & {
  /** Run the worker in this process (default true); off when `pnpm worker` processes do it. */
  enabled?: boolean;
};

function hostOf(publicOrigin: string): string {
  return new URL(publicOrigin).hostname;
}

export const defaultMailFrom = (publicOrigin: string) => `Parley <no-reply@${hostOf(publicOrigin)}>`;
export const defaultTeamAddress = (publicOrigin: string) => `team@${hostOf(publicOrigin)}`;

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
  publicOrigin: string;
  mail?: MailOptions;
  worker?: EmailWorkerOptions;
  /** The server shows recorded emails at /dev/mailbox: log each one's links and where to read it. */
  devMailbox?: boolean;
}): EmailDelivery {
  const { enabled: _enabled, ...overrides } = options.worker ?? {};
  const settings: EmailWorkerSettings = { ...defaultEmailWorkerSettings, ...overrides };
  const log = options.log.child({ component: "email-worker" });
  const transport = options.mail?.smtpUrl
    ? createSmtpTransport(options.mail.smtpUrl, { timeoutMs: Math.floor(settings.leaseMs / 2) })
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
              mailbox: `${options.publicOrigin}${DEV_MAILBOX_PATH}/${email.id}`,
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
    from: options.mail?.from ?? defaultMailFrom(options.publicOrigin),
    publicOrigin: options.publicOrigin,
  });
  worker.start();
  log.info(
    {
      transport: options.mail?.smtpUrl
        ? describeSmtpUrl(options.mail.smtpUrl)
        : options.devMailbox
          ? `recording: read the emails at ${options.publicOrigin}${DEV_MAILBOX_PATH}`
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
