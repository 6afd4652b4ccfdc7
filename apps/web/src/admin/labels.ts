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
