import type { ApiDeps } from "@parley/api";
import { DomainError, mentionsService } from "@parley/core";
import type { RequestHandler } from "express";

/** Where the unsubscribe link of a mention email points (the service builds the link). */
export const UNSUBSCRIBE_MENTIONS_PATH = "/unsubscribe/mentions";

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; max-width: 36em; margin: 3em auto; padding: 0 1em;">
<h1>${title}</h1>
<p>${body}</p>
</body>
</html>
`;
}

/**
 * GET, because it is a link in an email: it turns mention emails off and says so in plain HTML
 * (no script, nothing of the user's but the fact). A token we did not sign gets a 400 page.
 */
export function unsubscribeMentionsRoute(
  deps: Pick<ApiDeps, "db" | "clock" | "mentionEmails">,
): RequestHandler {
  return async (req, res, next) => {
    const token = typeof req.query.token === "string" ? req.query.token : "";
    res.type("html");
    try {
      await mentionsService.unsubscribeFromMentionEmails(deps, deps.mentionEmails.secret, token);
      res
        .status(200)
        .send(
          page(
            "Mention emails turned off",
            "You will get no more emails about mentions. You can turn them back on in your account settings.",
          ),
        );
    } catch (error) {
      if (error instanceof DomainError && error.kind === "invalid") {
        res
          .status(400)
          .send(
            page(
              "This unsubscribe link is not valid",
              "The link may be incomplete: open it again from the email, or turn mention emails off in your account settings.",
            ),
          );
        return;
      }
      next(error);
    }
  };
}
