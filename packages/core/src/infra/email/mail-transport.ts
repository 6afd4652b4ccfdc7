import { type Database, schema } from "@parley/db";
import type { Transporter } from "nodemailer";
import type { RenderedEmail } from "../../domain/email/email-templates.ts";

/** One rendered email for one outbox job. */
export interface OutgoingEmail extends RenderedEmail {
  jobId: string;
  from: string;
  to: string;
}

/** Where the worker hands rendered emails. Throws when the message was not accepted. */
export interface MailTransport {
  readonly kind: "smtp" | "recording";
  send(email: OutgoingEmail, options: { signal: AbortSignal }): Promise<void>;
  close(): void;
}

/**
 * nodemailer is loaded at the first email, not when a transport is made: it is a large module
 * tree (about a tenth of the server's cold start), and most starts send no email for a while.
 */
function lazyTransporter(options: Parameters<typeof import("nodemailer").createTransport>[0]) {
  let transporter: Promise<Transporter> | undefined;
  return {
    get: () => {
      transporter ??= import("nodemailer").then(({ createTransport }) => createTransport(options));
      return transporter;
    },
    close() {
      void transporter?.then((made) => made.close());
    },
  };
}

function domainOf(address: string): string {
  const match = /@([^\s@>]+)>?\s*$/.exec(address);
  return match?.[1] ?? "parley.invalid";
}

function messageOptions(email: OutgoingEmail, signal: AbortSignal) {
  return {
    from: email.from,
    to: email.to,
    subject: email.subject,
    text: email.text,
    html: email.html,
    // The same Message-ID on every attempt: a mailbox that gets a job twice (a crash between
    // the SMTP server accepting it and our commit) can tell it is one message.
    messageId: `<${email.jobId}@${domainOf(email.from)}>`,
    headers: { ...email.headers, "X-Parley-Job": email.jobId },
    signal,
  };
}

/** Real delivery through SMTP (`smtp://` or `smtps://`, credentials in the URL). */
export function createSmtpTransport(url: string, options: { timeoutMs: number }): MailTransport {
  const transporter = lazyTransporter({
    url,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    kind: "smtp",
    async send(email, { signal }) {
      await (await transporter.get()).sendMail(messageOptions(email, signal));
    },
    close() {
      transporter.close();
    },
  };
}

/** A rendered email the recording transport stored, with the id of its recorded_emails row. */
export interface RecordedEmail {
  id: string;
  to: string;
  subject: string;
  text: string;
}

/**
 * Without SMTP: nodemailer builds the message (so it fails where SMTP would, on a malformed
 * address) and the rendered email goes into recorded_emails. The server shows that table as the
 * development mailbox (/dev/mailbox) and tests read it; `onRecorded` hears of each new row.
 * Idempotent on the job: a re-send of a job already recorded records nothing.
 */
export function createRecordingTransport(
  db: Database,
  options: { onRecorded?: (email: RecordedEmail) => void } = {},
): MailTransport {
  const composer = lazyTransporter({ jsonTransport: true });
  return {
    kind: "recording",
    async send(email, { signal }) {
      await (await composer.get()).sendMail(messageOptions(email, signal));
      const rows = await db
        .insert(schema.recordedEmails)
        .values({
          jobId: email.jobId,
          toAddress: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
        })
        .onConflictDoNothing({ target: schema.recordedEmails.jobId })
        .returning({ id: schema.recordedEmails.id });
      const id = rows[0]?.id;
      if (id) options.onRecorded?.({ id, to: email.to, subject: email.subject, text: email.text });
    },
    close() {
      composer.close();
    },
  };
}
