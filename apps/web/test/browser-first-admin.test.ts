import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { runStartScript } from "@parley/testing/admin-create-process";
import { freePort } from "@parley/testing/free-port";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  launchChromium,
  newPerson,
  pageErrorsOf,
  requireBuiltWebApp,
  screenshot,
  signIn,
} from "./support/browser.ts";

// The first hour: `NODE_ENV=production pnpm start` on embedded PGlite, then `pnpm admin:create`
// in another terminal while it runs, then the admin's pages in a browser.
const dataDir = mkdtempSync(join(tmpdir(), "parley-first-admin-"));
let server: ServerProcess;
let url: string;
let browser: Browser;

beforeAll(async () => {
  requireBuiltWebApp();
  url = `http://127.0.0.1:${await freePort()}`;
  const env = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: url.split(":")[2] ?? "",
    PUBLIC_ORIGIN: url,
  };
  [server, browser] = await Promise.all([
    spawnServer({ ...env, DATA_DIR: dataDir, EMAIL_WORKER: "off" }, { bundle: true }),
    launchChromium(),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the first admin on embedded PGlite", () => {
  it("is made with admin:create while the server runs, signs in and opens the submissions page", async () => {
    const email = uniqueEmail("first-admin");
    const created = await runStartScript(
      ["admin-create", "--email", email, "--name", "First Admin"],
      `${GOOD_PASSWORD}\n`,
      { DATA_DIR: dataDir },
    );
    expect(created.out).toContain(`created admin ${email}`);
    expect(created.code).toBe(0);

    // Something for the admin's page to show: a lead posted as a site without the client would.
    const posted = await fetch(`${url}/api/forms/contact`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name: "Ada Lovelace",
        email: "ada@example.com",
        subject: "Hello",
        message: "Tell me more about Parley.",
      }),
    });
    expect(posted.status).toBe(200);

    const page = await newPerson(browser);
    await signIn(page, url, email, GOOD_PASSWORD);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { level: 1, name: "Form submissions" }).waitFor();
    // Listed by an admin procedure that answers only an admin's session.
    await page.getByRole("cell", { name: "Ada Lovelace" }).waitFor();
    await screenshot(page, "first-admin-submissions");
    expect(pageErrorsOf(page)).toEqual([]);
  });
});
