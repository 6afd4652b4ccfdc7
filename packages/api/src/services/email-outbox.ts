import { type Queryable, schema } from "@parley/db";

export type EmailTemplate =
  | { template: "verify-email"; data: { displayName: string; url: string } }
  | { template: "password-reset"; data: { displayName: string; url: string } };

/** Queues an email in the caller's transaction: it leaves only if the transaction commits. */
export async function enqueueEmail(db: Queryable, to: string, email: EmailTemplate): Promise<void> {
  await db.insert(schema.emailOutbox).values({ template: email.template, toAddress: to, data: email.data });
}
