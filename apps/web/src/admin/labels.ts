import type { SubmissionKind } from "@parley/api/schemas";

/** Field names stored in a submission's `fields`, as people read them. */
export const FIELD_LABELS: Record<string, string> = {
  subject: "Subject",
  message: "Message",
  companySize: "Company size",
  role: "Role",
  useCase: "Use case",
  preferredDate: "Preferred date",
  timezone: "Time zone",
  phone: "Phone",
};

export const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A submission's kind as the title of its page reads it ("Demo request from Ada"). */
export const FORM_KIND_TITLES = { contact: "Contact", demo: "Demo request" } satisfies Record<
  SubmissionKind,
  string
>;
