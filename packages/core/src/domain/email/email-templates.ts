import { FORM_KINDS, type FormKind } from "@parley/db/enums";
import { z } from "zod";

const linkData = z.object({ displayName: z.string(), url: z.string() });

const formNotificationData = z.object({
  kind: z.enum(FORM_KINDS),
  submissionId: z.string(),
  name: z.string(),
  email: z.string(),
  company: z.string().nullable(),
  /** The form's other fields, in the order the team reads them. */
  details: z.array(z.object({ label: z.string(), value: z.string() })),
});

const formReceiptData = z.object({ kind: z.enum(FORM_KINDS), name: z.string() });

const mentionDigestData = z.object({
  userId: z.string(),
  displayName: z.string(),
  mentions: z.array(z.object({ roomName: z.string(), authorName: z.string(), excerpt: z.string() })),
  /** Mentions past the listed ones, counted only. */
  more: z.number().int().min(0),
  inboxUrl: z.string(),
  unsubscribeUrl: z.string(),
});

/**
 * What an outbox row holds: a template and its data. The data is parsed again when the worker
 * renders it, because a row is JSON that may have been written by an older version.
 */
export const emailTemplateSchema = z.discriminatedUnion("template", [
  z.object({ template: z.literal("verify-email"), data: linkData }),
  z.object({ template: z.literal("password-reset"), data: linkData }),
  z.object({ template: z.literal("form-notification"), data: formNotificationData }),
  z.object({ template: z.literal("form-receipt"), data: formReceiptData }),
  z.object({ template: z.literal("mention-digest"), data: mentionDigestData }),
]);

export type EmailTemplate = z.infer<typeof emailTemplateSchema>;
export type FormNotificationData = z.infer<typeof formNotificationData>;
export type MentionDigestData = z.infer<typeof mentionDigestData>;

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
  /** Headers of the message's own (List-Unsubscribe), beside those the transport sets. */
  headers?: Record<string, string>;
}

export interface RenderOptions {
  /** The site's origin, for links to the admin pages. */
  publicOrigin: string;
  productName?: string;
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Every piece of user text goes through this before it reaches an HTML body. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** Subjects are one header line: no line breaks a user could use to add headers, and bounded. */
function subjectLine(value: string): string {
  const line = value.replace(/[\r\n\t]+/g, " ").trim();
  return line.length > 150 ? `${line.slice(0, 149)}…` : line;
}

function htmlDocument(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2328; max-width: 40em;">
${body}
</body>
</html>
`;
}

const paragraph = (text: string) => `<p>${escapeHtml(text).replace(/\r?\n/g, "<br>")}</p>`;
const button = (url: string, label: string) =>
  `<p><a href="${escapeHtml(url)}" style="display: inline-block; padding: 0.5em 1em; background: #0969da; color: #fff; text-decoration: none; border-radius: 6px;">${escapeHtml(label)}</a></p>`;

function linkEmail(
  product: string,
  data: z.infer<typeof linkData>,
  copy: { subject: string; intro: string; action: string; outro: string },
): RenderedEmail {
  const greeting = `Hi ${data.displayName},`;
  return {
    subject: subjectLine(`${product}: ${copy.subject}`),
    text: [greeting, "", copy.intro, "", data.url, "", copy.outro, "", `— ${product}`, ""].join("\n"),
    html: htmlDocument(
      copy.subject,
      [
        paragraph(greeting),
        paragraph(copy.intro),
        button(data.url, copy.action),
        paragraph(`Or paste this link into your browser: ${data.url}`),
        paragraph(copy.outro),
        paragraph(`— ${product}`),
      ].join("\n"),
    ),
  };
}

const KIND_NAMES = { contact: "contact", demo: "demo request" } as const satisfies Record<FormKind, string>;

function formNotification(
  product: string,
  data: FormNotificationData,
  options: RenderOptions,
): RenderedEmail {
  const who = data.company ? `${data.name} (${data.company})` : data.name;
  const link = `${options.publicOrigin}/admin/submissions/${data.submissionId}`;
  const rows: { label: string; value: string }[] = [
    { label: "Name", value: data.name },
    { label: "Email", value: data.email },
    ...(data.company ? [{ label: "Company", value: data.company }] : []),
    ...data.details,
  ];
  return {
    subject: subjectLine(`New ${KIND_NAMES[data.kind]} from ${who}`),
    text: [
      `A new ${KIND_NAMES[data.kind]} arrived on ${product}.`,
      "",
      ...rows.map((row) => `${row.label}: ${row.value.includes("\n") ? `\n${row.value}\n` : row.value}`),
      "",
      `Open it: ${link}`,
      "",
    ].join("\n"),
    html: htmlDocument(
      `New ${KIND_NAMES[data.kind]}`,
      [
        paragraph(`A new ${KIND_NAMES[data.kind]} arrived on ${product}.`),
        `<table cellpadding="4" style="border-collapse: collapse;">`,
        ...rows.map(
          (row) =>
            `<tr><th align="left" valign="top">${escapeHtml(row.label)}</th><td>${escapeHtml(row.value).replace(/\r?\n/g, "<br>")}</td></tr>`,
        ),
        "</table>",
        button(link, "Open the submission"),
      ].join("\n"),
    ),
  };
}

/**
 * The receipt goes to whatever address was typed into a public form, so it repeats nothing the
 * sender wrote but their name: it cannot be used to send someone else a message of our choosing.
 */
function formReceipt(product: string, data: z.infer<typeof formReceiptData>): RenderedEmail {
  const what = data.kind === "demo" ? "your demo request" : "your message";
  const greeting = `Hi ${data.name},`;
  const body = `Thank you: we received ${what} and will get back to you within two working days.`;
  const outro = "If you did not write to us, you can ignore this email.";
  return {
    subject: subjectLine(`${product}: we received ${what}`),
    text: [greeting, "", body, "", outro, "", `— ${product}`, ""].join("\n"),
    html: htmlDocument(
      `We received ${what}`,
      [paragraph(greeting), paragraph(body), paragraph(outro), paragraph(`— ${product}`)].join("\n"),
    ),
  };
}

/** The mentions since the last such email; every piece of it was typed by someone else: escaped. */
function mentionDigest(product: string, data: MentionDigestData): RenderedEmail {
  const total = data.mentions.length + data.more;
  const what = total === 1 ? "1 new mention" : `${total} new mentions`;
  const greeting = `Hi ${data.displayName},`;
  const intro = `You have ${what} on ${product} while you were away:`;
  const line = (m: MentionDigestData["mentions"][number]) => `${m.authorName} in ${m.roomName}: ${m.excerpt}`;
  const more = data.more > 0 ? [`…and ${data.more} more.`] : [];
  const outro = "To stop these emails, open:";
  return {
    subject: subjectLine(`${product}: ${what}`),
    // RFC 8058 one-click: the mail provider POSTs `List-Unsubscribe=One-Click` to the URL itself
    // (the token is the authority); a person opening the link gets a page asking to confirm.
    headers: {
      "List-Unsubscribe": `<${data.unsubscribeUrl}>`,
      "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    text: [
      greeting,
      "",
      intro,
      "",
      ...data.mentions.map((m) => `- ${line(m)}`),
      ...more,
      "",
      `Read them: ${data.inboxUrl}`,
      "",
      outro,
      data.unsubscribeUrl,
      "",
      `— ${product}`,
      "",
    ].join("\n"),
    html: htmlDocument(
      what,
      [
        paragraph(greeting),
        paragraph(intro),
        `<ul>${data.mentions.map((m) => `<li><strong>${escapeHtml(m.authorName)}</strong> in <strong>${escapeHtml(m.roomName)}</strong>: ${escapeHtml(m.excerpt)}</li>`).join("")}</ul>`,
        ...more.map(paragraph),
        button(data.inboxUrl, "Open my mentions"),
        `<p style="font-size: 0.9em; color: #59636e;">Too many emails? <a href="${escapeHtml(data.unsubscribeUrl)}">Turn off mention emails</a>.</p>`,
      ].join("\n"),
    ),
  };
}

/** The subject, plain-text and HTML bodies of an email; user text is escaped in the HTML. */
export function renderEmail(email: EmailTemplate, options: RenderOptions): RenderedEmail {
  const product = options.productName ?? "Parley";
  switch (email.template) {
    case "verify-email":
      return linkEmail(product, email.data, {
        subject: "confirm your email address",
        intro: "Confirm your email address by opening this link (valid for 24 hours):",
        action: "Confirm my email address",
        outro: "If you did not create an account, you can ignore this email.",
      });
    case "password-reset":
      return linkEmail(product, email.data, {
        subject: "reset your password",
        intro: "Choose a new password by opening this link (valid for 1 hour, once):",
        action: "Choose a new password",
        outro: "If you did not ask for this, ignore this email: your password stays as it is.",
      });
    case "form-notification":
      return formNotification(product, email.data, options);
    case "form-receipt":
      return formReceipt(product, email.data);
    case "mention-digest":
      return mentionDigest(product, email.data);
  }
}
