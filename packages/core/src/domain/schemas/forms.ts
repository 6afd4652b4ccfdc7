import { FORM_KINDS, SUBMISSION_STATUSES } from "@parley/db/enums";
import { z } from "zod";
import {
  CONTROL_CHARACTER_MESSAGE,
  emailAddress,
  multiLine,
  noControlCharacters,
  singleLine,
  text,
  uuid,
} from "./text.ts";

/** An optional single-line field: an HTML form sends "" for a field left blank, which means absent. */
function optionalSingleLine(max: number) {
  return singleLine(0, max)
    .optional()
    .transform((value) => (value ? value : undefined));
}

/**
 * The honeypot: a field people never see (hidden by CSS in the form) and bots fill in. Any
 * value is accepted, so a bot learns nothing from the answer; a filled one drops the submission.
 */
const honeypot = text().max(2000, "Must be at most 2000 characters").optional();

// Addresses anyone can create for free: a demo request must come from a work address.
// Small on purpose: this file ships to browsers with the rest of the schemas.
const FREE_MAIL_DOMAINS = new Set([
  "126.com",
  "163.com",
  "aol.com",
  "fastmail.com",
  "gmail.com",
  "gmx.com",
  "gmx.de",
  "gmx.net",
  "googlemail.com",
  "hey.com",
  "hotmail.co.uk",
  "hotmail.com",
  "hotmail.fr",
  "icloud.com",
  "live.com",
  "mac.com",
  "mail.com",
  "mail.ru",
  "me.com",
  "msn.com",
  "outlook.com",
  "pm.me",
  "proton.me",
  "protonmail.com",
  "qq.com",
  "tutanota.com",
  "web.de",
  "yahoo.co.uk",
  "yahoo.com",
  "yahoo.fr",
  "yandex.com",
  "yandex.ru",
  "zoho.com",
]);

/** Whether an address is at a free-mail provider (its domain, lowercased, is in the list). */
export const isFreeMailAddress = (email: string) =>
  FREE_MAIL_DOMAINS.has(email.slice(email.lastIndexOf("@") + 1).toLowerCase());

export const companySizes = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"] as const;
export type CompanySize = (typeof companySizes)[number];

const isTimeZone = (value: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: value });
    return true;
  } catch {
    return false;
  }
};

export const contactSubmitInput = z.object({
  name: singleLine(1, 100),
  email: emailAddress,
  company: optionalSingleLine(120),
  subject: singleLine(1, 150),
  message: multiLine(10, 5000),
  website: honeypot,
});

export const demoSubmitInput = z.object({
  name: singleLine(1, 100),
  workEmail: emailAddress.refine(
    (email) => !isFreeMailAddress(email),
    "Use your work email address, not a free-mail one",
  ),
  company: singleLine(1, 120),
  companySize: z.enum(companySizes, `Must be one of ${companySizes.join(", ")}`),
  role: optionalSingleLine(100),
  useCase: multiLine(10, 5000),
  // An instant with its offset ("2030-05-01T14:00:00+02:00" or "…Z"): unambiguous wherever it is read.
  preferredDate: text()
    .max(64, "Must be a date and time")
    .pipe(z.iso.datetime({ offset: true, message: "Must be an ISO 8601 date and time with an offset" }))
    .refine((value) => Date.parse(value) > Date.now(), "Must be in the future")
    .transform((value) => new Date(value).toISOString())
    .optional(),
  timezone: text()
    .max(64, "Must be an IANA time zone such as Europe/Paris")
    .refine(noControlCharacters, CONTROL_CHARACTER_MESSAGE)
    .transform((value) => value.trim())
    .refine((value) => value === "" || isTimeZone(value), "Must be an IANA time zone such as Europe/Paris")
    .transform((value) => (value ? value : undefined))
    .optional(),
  phone: text()
    .max(40, "Must be at most 40 characters")
    .transform((value) => value.trim().replace(/\s+/g, " "))
    .refine(
      (value) => value === "" || (/^\+?[0-9 ().-]+$/.test(value) && /^(\D*\d){6,20}\D*$/.test(value)),
      "Must be a phone number: digits, spaces, + ( ) . - only, 6 to 20 digits",
    )
    .transform((value) => (value ? value : undefined))
    .optional(),
  website: honeypot,
});

/** What both forms answer, whether the submission was stored or silently dropped. */
export const formSubmitOutput = z.object({ ok: z.literal(true) });

// The database's enums (@parley/db/enums), under the names the web app and the CLI import.
export const submissionKinds = FORM_KINDS;
export const submissionStatuses = SUBMISSION_STATUSES;

/** Opaque keyset cursors handed out by list procedures. */
export const keysetCursor = text()
  .max(200, "Is not a valid cursor")
  .regex(/^[A-Za-z0-9_-]+$/, "Is not a valid cursor");

export const adminPageSize = z.number().int().min(1).max(100);

export const listSubmissionsInput = z
  .object({
    kind: z.enum(submissionKinds).optional(),
    status: z.enum(submissionStatuses).optional(),
    cursor: keysetCursor.optional(),
    limit: adminPageSize.optional(),
  })
  .optional();

export const submissionIdInput = z.object({ id: uuid("Is not a submission id") });

export const updateSubmissionInput = z
  .object({
    id: uuid("Is not a submission id"),
    status: z.enum(submissionStatuses).optional(),
    note: multiLine(1, 2000).optional(),
  })
  .refine((value) => value.status !== undefined || value.note !== undefined, {
    path: ["status"],
    message: "Give a status, a note, or both",
  });

export type ContactSubmitInput = z.infer<typeof contactSubmitInput>;
export type DemoSubmitInput = z.infer<typeof demoSubmitInput>;
export type ListSubmissionsInput = z.infer<typeof listSubmissionsInput>;
export type UpdateSubmissionInput = z.infer<typeof updateSubmissionInput>;
export type { FormKind, FormKind as SubmissionKind, SubmissionStatus } from "@parley/db/enums";
