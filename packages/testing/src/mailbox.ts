import { schema } from "@parley/db";
import { desc, eq } from "drizzle-orm";
import type { ServerUnderTest } from "./server-under-test.ts";

/** Runs the server's email worker until nothing is due: every queued email has been tried. */
export async function deliverQueuedEmail(t: ServerUnderTest): Promise<void> {
  const email = t.server.email;
  if (!email) throw new Error("this test server runs no email worker");
  await email.worker.drain();
}

/** What the recording transport stored for an address, newest first (after deliverQueuedEmail). */
export async function recordedEmailsTo(t: ServerUnderTest, to: string) {
  return t.server.deps.db
    .select()
    .from(schema.recordedEmails)
    .where(eq(schema.recordedEmails.toAddress, to))
    .orderBy(desc(schema.recordedEmails.createdAt));
}

/** The first link of a recorded email's plain-text body that carries a token. */
export function tokenInLink(text: string): string {
  const match = /https?:\/\/\S+[?&]token=([A-Za-z0-9_-]+)/.exec(text);
  if (!match?.[1]) throw new Error(`no token link in:\n${text}`);
  return match[1];
}
