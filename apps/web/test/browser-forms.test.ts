import type { ParleyClient } from "@parley/client";
import { createdAdminAt, GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { newPerson, pageErrorsOf, screenshot, serverAndBrowserForFile, signIn } from "./support/browser.ts";
import { recordedEmails } from "./support/recorded-emails.ts";

const t = serverAndBrowserForFile();
let admin: { email: string; api: ParleyClient };

beforeAll(async () => {
  admin = await createdAdminAt(t.server);
});

/** Counts the calls the page makes to a procedure, to show when nothing was sent at all. */
function countCalls(page: Page, procedure: string) {
  let calls = 0;
  page.on("request", (request) => {
    if (new URL(request.url()).pathname.includes(procedure)) calls++;
  });
  return () => calls;
}

async function submissionsFrom(email: string) {
  const { items } = await admin.api.forms.submissions.list.query({});
  return items.filter((s) => s.email === email);
}

describe("the forms", () => {
  it("shows a bad email next to its field and stores nothing, then stores a good one and records the receipt", async () => {
    const page = await newPerson(t.browser);
    const submitCalls = countCalls(page, "forms.contact.submit");
    await page.goto(`${t.server.url}/contact`);
    await page.getByLabel("Name").fill("Grace Hopper");
    await page.getByLabel("Email").fill("grace@");
    await page.getByLabel("Subject").fill("Pricing for a team of forty");
    await page.getByLabel("Message").fill("We would like to know what a team plan costs.");
    await page.getByRole("button", { name: "Send message" }).click();

    const email = page.getByLabel("Email");
    await expect.poll(() => email.getAttribute("aria-invalid")).toBe("true");
    const describedBy = await email.getAttribute("aria-describedby");
    expect(await page.locator(`#${describedBy}`).textContent()).toBe("Must be a valid email address");
    expect(await email.evaluate((input) => input === document.activeElement)).toBe(true);
    await screenshot(page, "contact-form-bad-email");
    expect(submitCalls()).toBe(0);
    expect(await submissionsFrom("grace@")).toEqual([]);

    const address = uniqueEmail("grace");
    await email.fill(address);
    await page.getByRole("button", { name: "Send message" }).click();
    await page.getByText(`a receipt is on its way to ${address}`).waitFor();
    await screenshot(page, "contact-form-sent");

    const stored = await submissionsFrom(address);
    expect(stored).toMatchObject([
      {
        kind: "contact",
        name: "Grace Hopper",
        status: "new",
        fields: { subject: "Pricing for a team of forty" },
      },
    ]);
    // The receipt was queued with the submission and delivered by the worker (recorded, no SMTP here).
    await expect
      .poll(
        async () => {
          const { items } = await admin.api.admin.jobs.list.query({});
          return items.find((job) => job.template === "form-receipt" && job.toAddress === address)?.status;
        },
        { timeout: 20_000 },
      )
      .toBe("sent");
    const [receipt] = await recordedEmails(t.server.databaseUrl, address);
    expect(receipt?.subject).toMatch(/we received/);
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("explains every problem with a demo request, refuses a free-mail address, then takes a good one", async () => {
    const page = await newPerson(t.browser);
    await page.goto(`${t.server.url}/demo`);
    await page.getByRole("button", { name: "Request a demo" }).click();
    for (const label of ["Name", "Work email", "Company", "Company size", "What would you use Parley for?"]) {
      await expect
        .poll(() => page.getByLabel(label, { exact: true }).getAttribute("aria-invalid"))
        .toBe("true");
    }
    await screenshot(page, "demo-form-errors");

    await page.getByLabel("Name").fill("Alan Turing");
    await page.getByLabel("Work email").fill("alan@gmail.com");
    await page.getByLabel("Company", { exact: true }).fill("Bletchley Analytics");
    await page.getByLabel("Company size").selectOption("51-200");
    await page.getByLabel("What would you use Parley for?").fill("Team chat beside our support forms.");
    await page.getByRole("button", { name: "Request a demo" }).click();
    await page.getByText("Use your work email address, not a free-mail one").waitFor();

    const address = uniqueEmail("alan").replace("example.com", "bletchley.example");
    await page.getByLabel("Work email").fill(address);
    await page.getByRole("button", { name: "Request a demo" }).click();
    await page.getByText(`a receipt is on its way to ${address}`).waitFor();
    expect(await submissionsFrom(address)).toMatchObject([
      { kind: "demo", fields: { companySize: "51-200" } },
    ]);
    expect(pageErrorsOf(page)).toEqual([]);
  });

  it("lets an admin read the submissions and move one along", async () => {
    const page = await newPerson(t.browser);
    await signIn(page, t.server.url, admin.email, GOOD_PASSWORD);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { level: 1, name: "Form submissions" }).waitFor();
    await page.getByRole("cell", { name: "Grace Hopper" }).waitFor();
    await screenshot(page, "admin-submissions");

    await page
      .getByRole("row", { name: /Grace Hopper/ })
      .getByRole("link")
      .click();
    await page.getByRole("heading", { level: 1, name: "Contact from Grace Hopper" }).waitFor();
    await page.getByLabel("Status").selectOption("contacted");
    await page.getByLabel("Add a note").fill("Called back, sending a quote.");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Called back, sending a quote.").waitFor();
    await screenshot(page, "admin-submission");
    const [grace] = (await admin.api.forms.submissions.list.query({ kind: "contact" })).items;
    expect(grace).toMatchObject({ status: "contacted", notes: [{ text: "Called back, sending a quote." }] });
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
