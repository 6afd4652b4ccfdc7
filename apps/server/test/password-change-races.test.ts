import type { ParleyClient } from "@parley/client";
import { TRPCClientError } from "@parley/client";
import { schema } from "@parley/db";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { desc, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

const ROUNDS = 20;
const LOGINS_PER_ROUND = 8;

/** Logs in; the session token on success, null when refused as bad credentials. */
async function loginToken(api: ParleyClient, email: string, password: string): Promise<string | null> {
  try {
    const { token } = await api.auth.login.mutate({ email, password });
    if (!token) throw new Error("login returned no token to a client without Origin");
    return token;
  } catch (error) {
    if (error instanceof TRPCClientError && error.data?.code === "UNAUTHORIZED") return null;
    throw error;
  }
}

async function resetToken(email: string): Promise<string> {
  await t.client().auth.requestPasswordReset.mutate({ email });
  const [row] = await t.server.deps.db
    .select()
    .from(schema.emailOutbox)
    .where(eq(schema.emailOutbox.toAddress, email))
    .orderBy(desc(schema.emailOutbox.createdAt))
    .limit(1);
  if (row?.template !== "password-reset") throw new Error(`no reset email queued for ${email}`);
  return new URL((row.data as { url: string }).url).searchParams.get("token") ?? "";
}

/**
 * Runs logins with `oldPassword` concurrently with `change`, which sets a new password; returns
 * the sessions those logins got that still validate once everything has returned.
 */
async function survivingSessions(email: string, oldPassword: string, change: () => Promise<unknown>) {
  const api = t.client();
  const logins: Promise<string | null>[] = [];
  let changed: Promise<unknown> = Promise.resolve();
  for (let i = 0; i < LOGINS_PER_ROUND; i++) {
    logins.push(loginToken(api, email, oldPassword));
    // The change starts among the logins: some check the old password before it, some during.
    if (i === LOGINS_PER_ROUND / 2) changed = change();
  }
  const [tokens] = await Promise.all([Promise.all(logins), changed]);
  const surviving: string[] = [];
  for (const token of tokens) {
    if (token && (await t.client(token).auth.me.query()) !== null) surviving.push(token);
  }
  return { opened: tokens.filter((token) => token !== null).length, surviving };
}

describe("a password change ends every session the old password could still open", () => {
  it(`resetPassword: ${ROUNDS} rounds of ${LOGINS_PER_ROUND} concurrent old-password logins leave no valid session`, async () => {
    const email = uniqueEmail("reset-race");
    await t.client().auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Racer" });
    let password = GOOD_PASSWORD;
    const survivors: string[] = [];
    let opened = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const token = await resetToken(email);
      const next = `reset passphrase number ${round}`;
      const { opened: n, surviving } = await survivingSessions(email, password, () =>
        t.client().auth.resetPassword.mutate({ token, password: next }),
      );
      opened += n;
      survivors.push(...surviving);
      password = next;
    }
    // The old password did open sessions (before the reset): none of them is left.
    expect(opened).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
  });

  it(`changePassword: ${ROUNDS} rounds of ${LOGINS_PER_ROUND} concurrent old-password logins leave no valid session but the changer's new one`, async () => {
    const email = uniqueEmail("change-race");
    const registered = await t
      .client()
      .auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Racer" });
    let changerToken = registered.token ?? "";
    let password = GOOD_PASSWORD;
    const survivors: string[] = [];
    let opened = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const next = `changed passphrase number ${round}`;
      const current = password;
      const { opened: n, surviving } = await survivingSessions(email, current, async () => {
        const { token } = await t
          .client(changerToken)
          .auth.changePassword.mutate({ currentPassword: current, newPassword: next });
        changerToken = token ?? "";
      });
      opened += n;
      survivors.push(...surviving.filter((token) => token !== changerToken));
      password = next;
    }
    expect(opened).toBeGreaterThan(0);
    expect(survivors).toEqual([]);
    expect(await t.client(changerToken).auth.me.query()).not.toBeNull();
  });
});
