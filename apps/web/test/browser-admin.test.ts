import type { ParleyClient } from "@parley/client";
import { createdAdminAt, GOOD_PASSWORD, signUpAt, uniqueEmail } from "@parley/testing/accounts";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  expectNoSidewaysScroll,
  newPerson,
  PHONE,
  pageErrorsOf,
  screenshot,
  serverAndBrowserForFile,
  signIn,
} from "./support/browser.ts";
import { insertDeadJob } from "./support/email-jobs.ts";
import { recordedEmails } from "./support/recorded-emails.ts";

const t = serverAndBrowserForFile();
/** The only admin on this server (the last-admin refusal depends on it). */
let admin: { email: string; api: ParleyClient };

beforeAll(async () => {
  admin = await createdAdminAt(t.server);
});

const heading = (page: Page, name: string) => page.getByRole("heading", { level: 1, name }).waitFor();

async function adminOnPhone(): Promise<Page> {
  const page = await newPerson(t.browser, PHONE);
  await signIn(page, t.server.url, admin.email, GOOD_PASSWORD);
  return page;
}

describe("the admin pages", () => {
  it("show a non-admin the 403 page at every /admin address (no filters, no error), and send the signed-out to sign in", async () => {
    const grace = await signUpAt(t.server.url, "Grace");
    const page = await newPerson(t.browser);
    await signIn(page, t.server.url, grace.email, GOOD_PASSWORD);
    expect(await page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    for (const path of [
      "/admin/submissions",
      "/admin/users",
      "/admin/jobs",
      "/admin/submissions/x",
      "/admin",
    ]) {
      await page.goto(`${t.server.url}${path}`);
      await heading(page, "Admins only");
      expect(await page.getByRole("combobox").count(), path).toBe(0);
      expect(await page.locator(".form-error, [role=alert]").count(), path).toBe(0);
      expect(await page.getByRole("navigation", { name: "Admin" }).count(), path).toBe(0);
    }
    await screenshot(page, "admin-403");

    // Signed out: the sign-in page, which comes back to the admin page once an admin signs in.
    const stranger = await newPerson(t.browser);
    await stranger.goto(`${t.server.url}/admin/jobs`);
    await heading(stranger, "Sign in");
    await stranger.getByLabel("Email").fill(admin.email);
    await stranger.getByLabel("Password").fill(GOOD_PASSWORD);
    await stranger.getByRole("button", { name: "Sign in" }).click();
    await heading(stranger, "Email jobs");
    expect(new URL(stranger.url()).pathname).toBe("/admin/jobs");
    expect([...pageErrorsOf(page), ...pageErrorsOf(stranger)]).toEqual([]);
  });

  it("on a phone: finds a user by name, refuses to demote the last admin in the server's words, and makes the user an admin", async () => {
    const ada = await signUpAt(t.server.url, "Lovelace");
    await signUpAt(t.server.url, "Babbage");
    const page = await adminOnPhone();
    await page.getByRole("link", { name: "Admin" }).click();
    await heading(page, "Form submissions");
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" }).click();
    await heading(page, "Users");
    await page.getByRole("cell", { name: "Babbage", exact: true }).waitFor();
    await expectNoSidewaysScroll(page);

    await page.getByLabel("Name or email").fill("lovel");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await expect.poll(() => new URL(page.url()).searchParams.get("search")).toBe("lovel");
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.allTextContents()).toEqual([expect.stringContaining("Lovelace")]);
    expect(await rows.first().textContent()).toContain(ada.email);

    // The only admin removing their own role: asked to confirm, then refused by the server.
    await page.getByLabel("Name or email").fill(admin.email);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByRole("cell", { name: "Team Admin (you)" }).waitFor();
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: /^Remove admin/ }).click();
    await page.getByRole("alert").getByText("This is the only admin: promote someone else first").waitFor();
    await screenshot(page, "admin-users-last-admin");
    expect((await admin.api.auth.me.query())?.role).toBe("admin");

    await page.getByLabel("Name or email").fill("Lovelace");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const adaRow = page.getByRole("row", { name: /Lovelace/ });
    await adaRow.getByRole("button", { name: /^Make admin/ }).click();
    await page.getByRole("status").getByText("Lovelace is now an admin.").waitFor();
    await expect.poll(() => adaRow.locator(".status").textContent()).toBe("admin");
    await adaRow.getByRole("button", { name: /^Remove admin/ }).waitFor();
    expect((await ada.api.auth.me.query())?.role).toBe("admin");
    await expectNoSidewaysScroll(page);
    await screenshot(page, "admin-users");
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("on a phone: filters the email jobs by status and retries a dead one, which is then sent", async () => {
    const to = uniqueEmail("dead-letter");
    const jobId = await insertDeadJob(t.server.databaseUrl, to);
    const page = await adminOnPhone();
    await page.goto(`${t.server.url}/admin/jobs`);
    await heading(page, "Email jobs");
    await page.getByRole("cell", { name: to, exact: true }).waitFor();
    await expectNoSidewaysScroll(page);

    await page.getByLabel("Status").selectOption("dead");
    const statuses = page.locator("tbody tr .status");
    await expect.poll(() => statuses.allTextContents()).toEqual(["dead"]);
    const row = page.getByRole("row", { name: new RegExp(to) });
    await row.getByText("Error: simulated outage").waitFor();
    await screenshot(page, "admin-jobs-dead");
    await row.getByRole("button", { name: /^Retry/ }).click();
    await page.getByRole("status").getByText(`The email to ${to} will be sent again now.`).waitFor();

    // The worker takes it again and sends it: it leaves the dead filter and appears under sent.
    await expect
      .poll(
        async () => (await admin.api.admin.jobs.list.query({})).items.find((j) => j.id === jobId)?.status,
        {
          timeout: 20_000,
        },
      )
      .toBe("sent");
    expect(await recordedEmails(t.server.databaseUrl, to)).toHaveLength(1);
    await page.getByLabel("Status").selectOption("sent");
    await expect.poll(() => row.locator(".status").textContent()).toBe("sent");
    expect(await row.getByRole("button", { name: /^Retry/ }).count()).toBe(0);
    await page.getByLabel("Status").selectOption("dead");
    await page.getByText("No email jobs match.").waitFor();

    // A stale row: another admin retried this job and it went out meanwhile. The server's
    // refusal is shown in its own words, and nothing is sent twice.
    const other = uniqueEmail("stale-row");
    const otherId = await insertDeadJob(t.server.databaseUrl, other);
    await page.reload();
    await heading(page, "Email jobs");
    await page.getByLabel("Status").selectOption("dead");
    const staleRow = page.getByRole("row", { name: new RegExp(other) });
    await staleRow.waitFor();
    await admin.api.admin.jobs.retry.mutate({ id: otherId });
    await expect
      .poll(
        async () => (await admin.api.admin.jobs.list.query({})).items.find((j) => j.id === otherId)?.status,
        {
          timeout: 20_000,
        },
      )
      .toBe("sent");
    await staleRow.getByRole("button", { name: /^Retry/ }).click();
    await page.getByRole("alert").getByText("This email was already sent").waitFor();
    expect(await recordedEmails(t.server.databaseUrl, other)).toHaveLength(1);
    await expectNoSidewaysScroll(page);
    await screenshot(page, "admin-jobs-sent");
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("on a phone: the audit log shows who changed whose role and what changed, filters by action, and fits the screen", async () => {
    const hopper = await signUpAt(t.server.url, "Hopper");
    await admin.api.admin.users.setRole.mutate({ userId: hopper.user.id, role: "admin" });
    await admin.api.admin.users.setRole.mutate({ userId: hopper.user.id, role: "user" });
    const page = await adminOnPhone();
    await page.getByRole("link", { name: "Admin" }).click();
    await heading(page, "Form submissions");
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Audit log" }).click();
    await heading(page, "Audit log");
    const rows = page.locator("tbody tr");
    // Newest first: the demotion above the promotion, both by the admin, naming Hopper's account.
    const changes = page.getByRole("row", { name: new RegExp(`admin\\.role_changed.*${hopper.user.id}`) });
    await expect
      .poll(() => changes.allTextContents())
      .toEqual([
        // jsonb keeps shorter keys first: "to" before "from".
        expect.stringContaining("to: user, from: admin"),
        expect.stringContaining("to: admin, from: user"),
      ]);
    expect(await changes.first().textContent()).toContain(admin.email);
    await expectNoSidewaysScroll(page);

    await page.getByLabel("Action").selectOption("auth.login");
    await page.getByRole("button", { name: "Filter" }).click();
    const actions = rows.locator("td:first-child");
    await expect.poll(async () => new Set(await actions.allTextContents())).toEqual(new Set(["auth.login"]));
    await page.getByLabel("Target id").fill(hopper.user.id);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.getByText("No audit entries match.").waitFor();
    await expectNoSidewaysScroll(page);
    await screenshot(page, "admin-audit");
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("shows an admin demoted while the page is open the 403 page, not an error, and drops the Admin link", async () => {
    const demoted = await signUpAt(t.server.url, "Demoted");
    const me = await demoted.api.auth.me.query();
    if (!me) throw new Error("signed up without a session");
    await admin.api.admin.users.setRole.mutate({ userId: me.id, role: "admin" });
    const page = await newPerson(t.browser);
    await signIn(page, t.server.url, demoted.email, GOOD_PASSWORD);
    await page.getByRole("link", { name: "Admin" }).click();
    await heading(page, "Form submissions");

    await admin.api.admin.users.setRole.mutate({ userId: me.id, role: "user" });
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Email jobs" }).click();
    await heading(page, "Admins only");
    await expect.poll(() => page.getByRole("link", { name: "Admin" }).count()).toBe(0);
    expect(await page.getByRole("navigation", { name: "Admin" }).count()).toBe(0);
    expect(await page.locator(".form-error, [role=alert]:not(:empty)").count()).toBe(0);
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("on a phone: the submissions table and a submission with long text fit the screen", async () => {
    const longEmail = uniqueEmail(`a-very-long-local-part-for-a-narrow-screen-${"x".repeat(30)}`);
    const posted = await fetch(`${t.server.url}/api/forms/contact`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "Katherine Johnson",
        email: longEmail,
        subject: "Orbital mechanics for the whole support team",
        message: `A message with a long word: ${"trajectory".repeat(12)}`,
      }),
    });
    expect(posted.status).toBe(200);
    const page = await adminOnPhone();
    await page.goto(`${t.server.url}/admin/submissions`);
    await page.getByRole("cell", { name: "Katherine Johnson" }).waitFor();
    await expectNoSidewaysScroll(page);
    await page
      .getByRole("row", { name: /Katherine Johnson/ })
      .getByRole("link")
      .click();
    await heading(page, "Contact from Katherine Johnson");
    await expectNoSidewaysScroll(page);
    await screenshot(page, "admin-submission-phone");
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
