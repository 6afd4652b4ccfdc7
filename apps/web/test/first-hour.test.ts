import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { freePort } from "@parley/testing/free-port";
import type { Browser } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { launchChromium, newPerson, pageErrorsOf, screenshot } from "./support/browser.ts";

// A new user's first hour, as issue 11 lived it: a fresh clone of this repository, the README's
// first command exactly as the README writes it, the page in a browser, a sign-up, the
// verification email from the development mailbox, verified; the server never stopped. The clone
// holds what is committed (HEAD), as CI's checkout does.

const repository = execFileSync("git", ["rev-parse", "--show-toplevel"], {
  cwd: fileURLToPath(new URL(".", import.meta.url)),
  encoding: "utf8",
}).trim();
const work = mkdtempSync(join(tmpdir(), "parley-first-hour-"));
const clone = join(work, "parley");

let server: ChildProcess | undefined;
let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  const child = server;
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    // The command is `pnpm install && pnpm start` under sh: its whole process group.
    process.kill(-child.pid, "SIGTERM");
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** The README's first command: the first line of its first `sh` block, without its comment. */
function readmeFirstCommand(readme: string): string {
  const line = /```sh\n([^\n]*)/.exec(readme)?.[1];
  const command = line?.replace(/\s+#.*$/, "").trim();
  if (!command) throw new Error("the README has no ```sh block with a command");
  return command;
}

/** Only what a person's shell would have: none of this test run's own variables (NODE_ENV=test). */
function personEnvironment(port: number): Record<string, string> {
  const env: Record<string, string> = { PORT: String(port), LOG_LEVEL: "info" };
  for (const name of ["PATH", "HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "PNPM_HOME", "CI"]) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

describe("the first hour", () => {
  it("a fresh clone, the README's first command, then in the browser: sign up, the mailbox, verified; the server never stopped", async () => {
    execFileSync("git", ["clone", "--quiet", repository, clone]);
    const command = readmeFirstCommand(readFileSync(join(clone, "README.md"), "utf8"));
    expect(command).toMatch(/pnpm start$/);
    const port = await freePort();
    const url = `http://localhost:${port}`;

    const started = performance.now();
    const child = spawn("sh", ["-c", command], {
      cwd: clone,
      env: personEnvironment(port),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    server = child;
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    const browserLaunched = launchChromium();
    browser = await browserLaunched;

    await expect
      .poll(
        async () => {
          if (child.exitCode !== null)
            throw new Error(`the command exited with ${child.exitCode}:\n${output}`);
          return (await fetch(`${url}/readyz`).catch(() => undefined))?.status;
        },
        { timeout: 100_000, interval: 100 },
      )
      .toBe(200);
    const readyMs = performance.now() - started;
    // It says where to go. The line follows the listen, and the logger writes it asynchronously:
    // /readyz can answer before it reaches the pipe (it did in CI with two browser files running).
    await expect.poll(() => output, { timeout: 10_000 }).toContain(`"msg":"Open ${url}/ in a browser"`);

    const page = await newPerson(browser);
    await page.goto(`${url}/`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    const pageMs = performance.now() - started;
    await page.getByRole("link", { name: "Create an account" }).click();
    const email = uniqueEmail("first-hour");
    await page.getByLabel("Display name").fill("Newcomer");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(GOOD_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("heading", { level: 1, name: "Rooms" }).waitFor();
    await page.getByText("Please verify your email address").waitFor();

    // The email worker polls its outbox each second: the mailbox shows the email once it ran.
    await page.goto(`${url}/dev/mailbox`);
    const subject = page.getByRole("link", { name: "Parley: confirm your email address" });
    await expect
      .poll(
        async () => {
          if ((await subject.count()) === 0) await page.reload();
          return subject.count();
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    expect(await page.getByText(email).count()).toBe(1);
    await subject.click();
    await screenshot(page, "first-hour-mailbox");
    await page.getByRole("link", { name: new RegExp(`^${url}/verify-email\\?token=`) }).click();
    await page.getByText("Your email address is verified.").waitFor();
    await page.goto(`${url}/`);
    await page.getByRole("heading", { level: 1, name: "Rooms" }).waitFor();
    expect(await page.getByText("Please verify your email address").count()).toBe(0);
    expect(pageErrorsOf(page)).toEqual([]);

    // One server from the command to here: never stopped, never restarted.
    expect(child.exitCode).toBe(null);
    expect(output.match(/Parley is listening/g)).toHaveLength(1);

    const templateBuilt = output.includes("PGlite template (initdb + migrations)");
    console.log(
      `first hour: /readyz ${Math.round(readyMs)} ms, the page ${Math.round(pageMs)} ms after the command` +
        ` (PGlite template ${templateBuilt ? "built: this machine's first" : "from this machine's cache"})`,
    );
    // Reported, not bounded: the README's table keeps the figures, as `pnpm bench` keeps the
    // server's; a bound here failed CI on a slower machine with two browser files beside it.
  }, 150_000);
});
