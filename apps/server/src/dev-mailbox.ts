import { type Database, schema } from "@parley/db";
import { desc, eq } from "drizzle-orm";
import express, { type Router } from "express";

/** Where the development mailbox is served (development without SMTP_URL only). */
export const DEV_MAILBOX_PATH = "/dev/mailbox";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const LINK = /https?:\/\/[^\s<>"']+/g;

/** The links of an email's plain-text body, in order, once each: what a reader would click. */
export function linksIn(text: string): string[] {
  return [...new Set(text.match(LINK) ?? [])];
}

function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/** The text body, escaped, with its links made clickable. */
function linkify(text: string): string {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    html += escapeHtml(text.slice(last, match.index));
    html += `<a href="${escapeHtml(match[0])}">${escapeHtml(match[0])}</a>`;
    last = match.index + match[0].length;
  }
  return html + escapeHtml(text.slice(last));
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>${escapeHtml(title)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #8884}
pre{white-space:pre-wrap;padding:1rem;border:1px solid #8884;border-radius:6px}
iframe{width:100%;height:28rem;border:1px solid #8884;border-radius:6px;background:#fff}</style>
</head><body>${body}</body></html>`;
}

/**
 * The development mailbox (as Mailpit or letter_opener serve Rails): without SMTP_URL, emails are
 * recorded in recorded_emails instead of leaving, and this shows them, newest first, their links
 * clickable. Served by the server itself because PGlite's data directory is locked by the running
 * server: no other process can read the table while it runs. Never mounted in production, where
 * the links' tokens would be readable by anyone.
 */
export function devMailbox(db: Database): Router {
  const router = express.Router();
  router.get("/", async (_req, res) => {
    const emails = await db
      .select({
        id: schema.recordedEmails.id,
        toAddress: schema.recordedEmails.toAddress,
        subject: schema.recordedEmails.subject,
        createdAt: schema.recordedEmails.createdAt,
      })
      .from(schema.recordedEmails)
      .orderBy(desc(schema.recordedEmails.createdAt))
      .limit(200);
    const rows = emails
      .map(
        (email) =>
          `<tr><td>${escapeHtml(email.createdAt.toISOString())}</td><td>${escapeHtml(email.toAddress)}</td>` +
          `<td><a href="${DEV_MAILBOX_PATH}/${email.id}">${escapeHtml(email.subject)}</a></td></tr>`,
      )
      .join("");
    res.type("html").send(
      page(
        "Mailbox",
        `<h1>Mailbox</h1><p>Every email this server sent since its data directory was made (development, no
SMTP_URL: nothing left the machine). Newest first.</p>` +
          (emails.length === 0
            ? "<p>No email yet.</p>"
            : `<table><thead><tr><th>Sent</th><th>To</th><th>Subject</th></tr></thead><tbody>${rows}</tbody></table>`),
      ),
    );
  });
  router.get("/:id", async (req, res, next) => {
    if (!UUID.test(req.params.id)) return next();
    const [email] = await db
      .select()
      .from(schema.recordedEmails)
      .where(eq(schema.recordedEmails.id, req.params.id));
    if (!email) return next();
    // The HTML part in a frame of its own, its links opening in this tab (base target _top).
    const framed = `<base target="_top">${email.html}`;
    res.type("html").send(
      page(
        email.subject,
        `<p><a href="${DEV_MAILBOX_PATH}">← Mailbox</a></p><h1>${escapeHtml(email.subject)}</h1>
<p>To: ${escapeHtml(email.toAddress)}<br>Sent: ${escapeHtml(email.createdAt.toISOString())}</p>
<pre>${linkify(email.text)}</pre>
<iframe title="HTML version" sandbox="allow-top-navigation-by-user-activation allow-popups" srcdoc="${escapeHtml(framed)}"></iframe>`,
      ),
    );
  });
  return router;
}
