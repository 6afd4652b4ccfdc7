import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { codeOf } from "@parley/testing/api-errors";
import { deliverQueuedEmail, recordedEmailsTo, tokenInLink } from "@parley/testing/mailbox";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function register(displayName = "Ada Lovelace") {
  const email = uniqueEmail("flow");
  const { token } = await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName });
  if (!token) throw new Error("register returned no token");
  return { email, token };
}

describe("account emails, as delivered", () => {
  it("register sends a verification email whose link verifies the account once", async () => {
    const { email, token } = await register();
    await deliverQueuedEmail(t);
    const [verification, ...more] = await recordedEmailsTo(t, email);
    expect(more).toEqual([]);
    expect(verification?.subject).toBe("Parley: confirm your email address");
    expect(verification?.text).toContain("Hi Ada Lovelace,");
    const link = tokenInLink(verification?.text ?? "");
    expect(link.length).toBeGreaterThanOrEqual(22); // ≥ 128 bits in base64url
    expect(verification?.html).toContain(`verify-email?token=${link}`);

    expect(await t.client(token).auth.me.query()).toMatchObject({ emailVerified: false });
    expect(await t.client().auth.verifyEmail.mutate({ token: link })).toEqual({ ok: true });
    expect(await t.client(token).auth.me.query()).toMatchObject({ emailVerified: true });
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: link }))).toBe("BAD_REQUEST");
    // Only the hash is stored: the emailed token appears nowhere in the database.
    const stored = await t.server.deps.db.select().from(schema.emailVerificationTokens);
    expect(JSON.stringify(stored)).not.toContain(link);
  });

  it("resendVerification sends a new link and the old one stops working", async () => {
    const { email, token } = await register();
    await deliverQueuedEmail(t);
    const first = tokenInLink((await recordedEmailsTo(t, email))[0]?.text ?? "");
    await t.client(token).auth.resendVerification.mutate();
    await deliverQueuedEmail(t);
    const emails = await recordedEmailsTo(t, email);
    expect(emails).toHaveLength(2);
    const second = tokenInLink(emails[0]?.text ?? "");
    expect(second).not.toBe(first);
    expect(await codeOf(t.client().auth.verifyEmail.mutate({ token: first }))).toBe("BAD_REQUEST");
    await t.client().auth.verifyEmail.mutate({ token: second });
    expect(await t.client(token).auth.me.query()).toMatchObject({ emailVerified: true });
  });

  it("escapes the display name in the HTML of the verification email", async () => {
    const { email } = await register(`<a href="https://evil.example">Click</a>`);
    await deliverQueuedEmail(t);
    const [verification] = await recordedEmailsTo(t, email);
    expect(verification?.html).toContain(
      "Hi &lt;a href=&quot;https://evil.example&quot;&gt;Click&lt;/a&gt;,",
    );
    expect(verification?.html).not.toContain('<a href="https://evil.example"');
  });

  it("a reset request answers the same for unknown and known emails; only the known one gets an email", async () => {
    const { email } = await register();
    const unknown = uniqueEmail("nobody");
    const answers = [
      await t.client().auth.requestPasswordReset.mutate({ email: unknown }),
      await t.client().auth.requestPasswordReset.mutate({ email }),
    ];
    expect(answers[0]).toEqual(answers[1]);
    await deliverQueuedEmail(t);
    expect(await recordedEmailsTo(t, unknown)).toEqual([]);
    const queuedForUnknown = await t.server.deps.db
      .select()
      .from(schema.emailOutbox)
      .where(eq(schema.emailOutbox.toAddress, unknown));
    expect(queuedForUnknown).toEqual([]);
    // The known address also has its sign-up's confirmation, delivered in the same pass: the
    // worker sends a pass's emails at once, so their recording order is not the order queued.
    const subjects = (await recordedEmailsTo(t, email)).map((sent) => sent.subject).sort();
    expect(subjects).toEqual(["Parley: confirm your email address", "Parley: reset your password"]);
  });

  it("the emailed reset token sets the password once and ends every session", async () => {
    const { email, token } = await register();
    const { token: second } = await t.client().auth.login.mutate({ email, password: GOOD_PASSWORD });
    await t.client().auth.requestPasswordReset.mutate({ email });
    await deliverQueuedEmail(t);
    const [reset] = (await recordedEmailsTo(t, email)).filter((sent) => sent.subject.includes("reset"));
    const resetToken = tokenInLink(reset?.text ?? "");
    expect(reset?.text).toContain(`/reset-password?token=${resetToken}`);

    const password = "a brand new passphrase";
    expect(await t.client().auth.resetPassword.mutate({ token: resetToken, password })).toEqual({ ok: true });
    expect(await t.client(token).auth.me.query()).toBeNull();
    expect(await t.client(second).auth.me.query()).toBeNull();
    expect(await codeOf(t.client().auth.login.mutate({ email, password: GOOD_PASSWORD }))).toBe(
      "UNAUTHORIZED",
    );
    expect((await t.client().auth.login.mutate({ email, password })).token).toBeDefined();
    expect(
      await codeOf(
        t.client().auth.resetPassword.mutate({ token: resetToken, password: "yet another phrase" }),
      ),
    ).toBe("BAD_REQUEST");
  });
});

describe("auth rate limits", () => {
  it("refuse a burst of register, login and reset requests from one address with TOO_MANY_REQUESTS", async () => {
    await using limited = await startTestServer({ rateLimits: { auth: { points: 4, durationSeconds: 60 } } });
    const client = limited.client();
    const email = uniqueEmail("burst");
    await client.auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Burst" });
    expect(await codeOf(client.auth.login.mutate({ email, password: "a wrong password" }))).toBe(
      "UNAUTHORIZED",
    );
    expect(await client.auth.requestPasswordReset.mutate({ email })).toEqual({ ok: true });
    expect(
      await codeOf(client.auth.resetPassword.mutate({ token: "abc", password: "another passphrase" })),
    ).toBe("BAD_REQUEST");
    const refused = [
      client.auth.login.mutate({ email, password: GOOD_PASSWORD }),
      client.auth.register.mutate({ email: uniqueEmail(), password: GOOD_PASSWORD, displayName: "Two" }),
      client.auth.requestPasswordReset.mutate({ email }),
      client.auth.resetPassword.mutate({ token: "abc", password: "another passphrase" }),
      // Malformed input counts too: the limit is taken before the input is parsed.
      client.auth.login.mutate({ email: "nope", password: "" }),
    ];
    for (const call of refused) expect(await codeOf(call)).toBe("TOO_MANY_REQUESTS");
    // Signed-in procedures are not behind this limit.
    expect(await client.auth.me.query()).toBeNull();
  });
});
