// Services called directly on in-memory PGlite, beside the black-box suite in apps/server/test.
import { randomUUID } from "node:crypto";
import { DomainError, formsService } from "@parley/core";
import { contactSubmitInput, demoSubmitInput } from "@parley/core/schemas";
import { schema } from "@parley/db";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { serviceDepsForFile } from "../../src/service-deps.ts";

const { listSubmissions, submitContact, updateSubmission } = formsService;

const deps = await serviceDepsForFile();

const contact = (email: string, extra: Record<string, string> = {}) =>
  contactSubmitInput.parse({
    name: "Grace Hopper",
    email,
    subject: "Pricing",
    message: "How much for a team of forty?",
    ...extra,
  });

async function rowCounts() {
  const [submissions] = await deps.db.select({ n: count() }).from(schema.formSubmissions);
  const [emails] = await deps.db.select({ n: count() }).from(schema.emailOutbox);
  return { submissions: submissions?.n, emails: emails?.n };
}

/** The fields a parse refused, sorted. */
const fieldsOf = (error: z.ZodError | undefined) =>
  error ? Object.keys(z.flattenError(error).fieldErrors).sort() : [];

describe("forms service", () => {
  it("submitContact stores the submission and queues the team's notification and the sender's receipt", async () => {
    const email = `grace-${randomUUID()}@example.com`;
    expect(await submitContact(deps, contact(email), { ip: "192.0.2.1" })).toEqual({ stored: true });
    const [stored] = await deps.db
      .select()
      .from(schema.formSubmissions)
      .where(eq(schema.formSubmissions.email, email));
    expect(stored).toMatchObject({
      kind: "contact",
      name: "Grace Hopper",
      fields: { subject: "Pricing", message: "How much for a team of forty?" },
      ip: "192.0.2.1",
    });
    const queued = await deps.db
      .select({ to: schema.emailOutbox.toAddress, template: schema.emailOutbox.template })
      .from(schema.emailOutbox);
    expect(queued).toEqual(
      expect.arrayContaining([
        { to: deps.teamAddress, template: "form-notification" },
        { to: email, template: "form-receipt" },
      ]),
    );
  });

  it("a filled honeypot is answered like a success and stores and queues nothing", async () => {
    const before = await rowCounts();
    const outcome = await submitContact(
      deps,
      contact("bot@example.com", { website: "http://spam.example" }),
      {
        ip: null,
      },
    );
    expect(outcome).toEqual({ stored: false });
    expect(await rowCounts()).toEqual(before);
  });

  it("the schemas refuse bad input field by field before any service runs", () => {
    const contactResult = contactSubmitInput.safeParse({
      name: "Nul\u0000Byte",
      email: "not an address",
      subject: "",
      message: "short",
    });
    expect(contactResult.success).toBe(false);
    expect(fieldsOf(contactResult.error)).toEqual(["email", "message", "name", "subject"]);
    const demoResult = demoSubmitInput.safeParse({
      name: "Grace",
      workEmail: "grace@gmail.com",
      company: "Navy",
      companySize: "a lot",
      useCase: "Ship-to-shore chat for the fleet.",
      preferredDate: "tomorrow",
    });
    expect(fieldsOf(demoResult.error)).toEqual(["companySize", "preferredDate", "workEmail"]);
  });

  it("an unknown submission or a malformed cursor is a typed DomainError and changes nothing", async () => {
    const before = await rowCounts();
    const update = updateSubmission(
      deps,
      { id: randomUUID(), status: "closed" },
      { email: "ops@example.com", userId: "ops-admin" },
    );
    await expect(update).rejects.toBeInstanceOf(DomainError);
    await expect(update).rejects.toMatchObject({ kind: "not-found", message: "No such submission" });
    await expect(listSubmissions(deps, { cursor: "not-a-cursor" })).rejects.toMatchObject({
      kind: "invalid",
      field: "cursor",
    });
    expect(await rowCounts()).toEqual(before);
  });
});
