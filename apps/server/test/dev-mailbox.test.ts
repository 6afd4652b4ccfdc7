import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { deliverQueuedEmail } from "@parley/testing/mailbox";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { startTestServer } from "./support/test-server.ts";

/** A logger whose lines the test reads, as a person reads the terminal. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, lines };
}

describe("the development mailbox (/dev/mailbox)", () => {
  it("lists a sent email, shows it with its verification link clickable, and logs that link at info", async () => {
    const { logger, lines } = recordingLogger();
    await using t = await startTestServer({ logger, publicOrigin: "http://localhost:5999" });
    const email = uniqueEmail("mailbox");
    await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Mail Reader" });
    await deliverQueuedEmail(t);

    const list = await fetch(`${t.url}/dev/mailbox`);
    expect(list.status).toBe(200);
    expect(list.headers.get("content-type")).toMatch(/^text\/html/);
    const listHtml = await list.text();
    const row = new RegExp(
      `${email}</td><td><a href="(/dev/mailbox/[0-9a-f-]{36})">Parley: confirm your email address</a>`,
    );
    const messagePath = row.exec(listHtml)?.[1];
    if (!messagePath) throw new Error(`no row for ${email} in:\n${listHtml}`);

    const message = await (await fetch(`${t.url}${messagePath}`)).text();
    // The link points at the origin that serves the web app, and is an anchor in the text part.
    const link = /<a href="(http:\/\/localhost:5999\/verify-email\?token=[A-Za-z0-9_-]+)">/.exec(
      message,
    )?.[1];
    if (!link) throw new Error(`no verification link in:\n${message}`);
    // The HTML part too, in a frame whose links open in the mailbox's tab.
    expect(message).toContain('<iframe title="HTML version"');
    expect(message).toContain("&lt;base target=&quot;_top&quot;&gt;");

    const logged = lines.find(
      (line) => line.to === email && line.msg === "email recorded: read it in the development mailbox",
    );
    expect(logged).toMatchObject({
      level: 30,
      links: [link],
      mailbox: `http://localhost:5999${messagePath}`,
    });
  });

  it("answers 404 for a message that does not exist and for an id that is no uuid", async () => {
    await using t = await startTestServer();
    expect((await fetch(`${t.url}/dev/mailbox/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect((await fetch(`${t.url}/dev/mailbox/not-an-id`)).status).toBe(404);
  });

  it("is not served in production (404), where emails are recorded without their links in the log", async () => {
    const { logger, lines } = recordingLogger();
    await using t = await startTestServer({ production: true, logger });
    const email = uniqueEmail("mailbox-production");
    await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Prod" });
    await deliverQueuedEmail(t);
    expect((await fetch(`${t.url}/dev/mailbox`)).status).toBe(404);
    const logged = lines.find((line) => line.to === email);
    expect(logged?.msg).toBe("email recorded");
    expect(JSON.stringify(lines)).not.toMatch(/token=/);
  });

  it("is not served for a public origin off this machine, even outside production", async () => {
    await using t = await startTestServer({ publicOrigin: "https://chat.example.com" });
    expect((await fetch(`${t.url}/dev/mailbox`)).status).toBe(404);
  });

  it("is not served when SMTP_URL sends the emails out (nothing is recorded to show)", async () => {
    await using t = await startTestServer({
      mail: { smtpUrl: "smtp://127.0.0.1:9" },
      emailWorker: { enabled: false },
    });
    expect((await fetch(`${t.url}/dev/mailbox`)).status).toBe(404);
  });
});
