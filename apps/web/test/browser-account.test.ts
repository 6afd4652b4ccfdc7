import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { describe, expect, it } from "vitest";
import { newPerson, pageErrorsOf, serverAndBrowserForFile, signIn } from "./support/browser.ts";
import { linkIn, type RecordedEmail, recordedEmails } from "./support/recorded-emails.ts";

const t = serverAndBrowserForFile();

/** The newest email to `to` whose subject matches, once the email worker has recorded it. */
async function emailTo(to: string, subject: RegExp): Promise<RecordedEmail> {
  let found: RecordedEmail | undefined;
  await expect
    .poll(
      async () => {
        found = (await recordedEmails(t.server.databaseUrl, to))
          .filter((e) => subject.test(e.subject))
          .at(-1);
        return found !== undefined;
      },
      { timeout: 20_000 },
    )
    .toBe(true);
  if (!found) throw new Error("unreachable");
  return found;
}

describe("the account pages", () => {
  it("sign up, verify the email from its link, sign out, reset the password and sign in with the new one", async () => {
    const page = await newPerson(t.browser);
    const email = uniqueEmail("Hedy");
    await page.goto(`${t.server.url}/sign-up`);
    await page.getByLabel("Display name").fill("Hedy");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("password123");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByText("Is too common: choose another password").waitFor();
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Rooms" }).waitFor();
    await page.getByText("Please verify your email address").waitFor();

    const verification = await emailTo(email, /confirm your email address/);
    await page.goto(linkIn(verification.text, t.server.url, "/verify-email"));
    await page.getByText("Your email address is verified.").waitFor();
    await expect.poll(() => page.getByText("Please verify your email address").count()).toBe(0);

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.getByLabel("Email").fill(email);
    await page.getByRole("button", { name: "Send me a link" }).click();
    await page.getByText("If an account uses that address").waitFor();

    const reset = await emailTo(email, /reset your password/);
    await page.goto(linkIn(reset.text, t.server.url, "/reset-password"));
    const newPassword = "a brand new passphrase";
    await page.getByLabel("New password").fill(newPassword);
    await page.getByRole("button", { name: "Set password" }).click();
    await page.getByText("Your password is changed").waitFor();

    await page.goto(`${t.server.url}/sign-in`);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong email or password").waitFor();
    await signIn(page, t.server.url, email, newPassword);
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("sends a signed-out visitor to sign in, and back to the page they asked for", async () => {
    const page = await newPerson(t.browser);
    const email = uniqueEmail("Katherine");
    await page.goto(`${t.server.url}/sign-up`);
    await page.getByLabel("Display name").fill("Katherine");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Rooms" }).waitFor();
    await page.context().clearCookies();

    await page.goto(`${t.server.url}/search?q=orbit`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Search messages" }).waitFor();
    expect(new URL(page.url()).search).toBe("?q=orbit");
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
