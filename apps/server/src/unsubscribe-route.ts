import type { ApiDeps } from "@parley/api";
import { DomainError, escapeHtml, mentionsService } from "@parley/core";
import type { RequestHandler } from "express";

/** Where the unsubscribe link of a mention email points (the service builds the link). */
export const UNSUBSCRIBE_MENTIONS_PATH = "/unsubscribe/mentions";

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; max-width: 36em; margin: 3em auto; padding: 0 1em;">
<h1>${title}</h1>
${body}
</body>
</html>
`;
}

const invalidLink = page(
  "This unsubscribe link is not valid",
  "<p>The link may be incomplete: open it again from the email, or turn mention emails off in your account settings.</p>",
);

function tokenOf(query: unknown): string {
  const token = (query as { token?: unknown }).token;
  return typeof token === "string" ? token : "";
}

type Deps = Pick<ApiDeps, "db" | "clock" | "mentionEmails">;

/**
 * GET, the link a person opens: changes nothing (mail scanners follow every link in a message)
 * and asks to confirm, with a form that POSTs the same token. A token we did not sign gets a
 * 400 page. Plain HTML, no script, nothing of the user's.
 */
export function confirmUnsubscribePage(deps: Deps): RequestHandler {
  return (req, res) => {
    const token = tokenOf(req.query);
    res.type("html");
    if (!mentionsService.userOfUnsubscribeToken(deps.mentionEmails.secret, token)) {
      res.status(400).send(invalidLink);
      return;
    }
    const action = `${UNSUBSCRIBE_MENTIONS_PATH}?token=${encodeURIComponent(token)}`;
    res.status(200).send(
      page(
        "Turn off mention emails?",
        `<p>You will get no more emails when someone mentions you. You can turn them back on in your account settings.</p>
<form method="post" action="${escapeHtml(action)}"><button type="submit">Turn off mention emails</button></form>`,
      ),
    );
  };
}

/**
 * POST: turns mention emails off. Both the confirmation form and RFC 8058's one-click
 * (`List-Unsubscribe=One-Click`, sent by the mail provider's servers, without Origin or cookie)
 * land here; the body is not read, the token in the URL is the whole authority. That is why this
 * route sits before the Origin check (http-app.ts): a cross-site POST can do no more than the
 * token's holder can from anywhere, namely turn off that one user's mention emails.
 */
export function unsubscribeMentionsRoute(deps: Deps): RequestHandler {
  return async (req, res, next) => {
    res.type("html");
    try {
      await mentionsService.unsubscribeFromMentionEmails(deps, deps.mentionEmails.secret, tokenOf(req.query));
      res
        .status(200)
        .send(
          page(
            "Mention emails turned off",
            "<p>You will get no more emails about mentions. You can turn them back on in your account settings.</p>",
          ),
        );
    } catch (error) {
      if (error instanceof DomainError && error.kind === "invalid") {
        res.status(400).send(invalidLink);
        return;
      }
      next(error);
    }
  };
}
