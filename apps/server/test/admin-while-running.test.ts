import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, signInAt, uniqueEmail } from "@parley/testing/accounts";
import { runStartScript } from "@parley/testing/admin-create-process";
import { codeOf } from "@parley/testing/api-errors";
import { findPsql } from "@parley/testing/pg-cluster";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import { spawnWorker } from "@parley/testing/worker-process";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// The first hour on embedded PGlite: the server runs (started as `pnpm start` starts it, from the
// bundle), and the operator's other commands reach its database without stopping it.
const root = mkdtempSync(join(tmpdir(), "parley-admin-ops-"));
const dataDir = join(root, "data");
// The server's own worker is off, so that only `pnpm worker` can send what it queues.
const env = { DATA_DIR: dataDir, EMAIL_WORKER: "off", LOG_LEVEL: "info" };
let server: ServerProcess;

beforeAll(async () => {
  server = await spawnServer(env, { bundle: true });
});
afterAll(async () => {
  try {
    expect(await server?.stop()).toBe(0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

/** One line of text, none of it a stack frame or the bundle's source. */
function expectOneLine(out: string) {
  const lines = out.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(out).not.toMatch(/\n\s+at |dist\/|\bfunction\b|=>/);
  expect(out.length).toBeLessThan(400);
}

describe("administration while the server runs on PGlite", () => {
  it("makes the first admin with admin:create, who signs in and calls an admin procedure over HTTP", async () => {
    const email = uniqueEmail("first-admin");
    const created = await runStartScript(
      ["admin-create", "--email", email, "--name", "First Admin"],
      `${GOOD_PASSWORD}\n`,
      env,
    );
    expect(created).toMatchObject({ code: 0 });
    expect(created.out).toMatch(new RegExp(`^created admin ${email} \\(`));

    const admin = await signInAt(server.url, email);
    const { items } = await admin.admin.users.list.query({});
    expect(items).toContainEqual(
      expect.objectContaining({ email, role: "admin", displayName: "First Admin" }),
    );
  });

  it("promotes an account that already signed up: its next request is an admin's", async () => {
    const email = uniqueEmail("promoted");
    await createParleyClient({ url: server.url }).auth.register.mutate({
      email,
      password: GOOD_PASSWORD,
      displayName: "Promoted",
    });
    const user = await signInAt(server.url, email);
    expect(await codeOf(user.admin.users.list.query({}))).toBe("FORBIDDEN");

    const promoted = await runStartScript(["admin-create", "--email", email], "", env);
    expect(promoted).toMatchObject({ code: 0 });
    expect(promoted.out).toContain(`${email} is now an admin`);
    const { items } = await user.admin.users.list.query({ search: email });
    expect(items).toEqual([expect.objectContaining({ email, role: "admin" })]);
  });

  it("runs db:migrate through the running server and leaves it serving", async () => {
    const migrated = await runStartScript(["main", "--migrate-only"], "", env);
    expect(migrated.out).toContain("migrations applied");
    expect(migrated.code).toBe(0);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it("runs `pnpm worker` beside the server: it sends the email the server queued", async () => {
    const adminEmail = uniqueEmail("jobs-admin");
    expect(
      (await runStartScript(["admin-create", "--email", adminEmail], `${GOOD_PASSWORD}\n`, env)).code,
    ).toBe(0);
    const admin = await signInAt(server.url, adminEmail);
    const email = uniqueEmail("verify-me");
    await createParleyClient({ url: server.url }).auth.register.mutate({
      email,
      password: GOOD_PASSWORD,
      displayName: "Needs verifying",
    });
    const jobs = async () =>
      (await admin.admin.jobs.list.query({})).items.filter((job) => job.toAddress === email);
    expect(await jobs()).toEqual([expect.objectContaining({ status: "pending" })]);

    const worker = await spawnWorker({ ...env, EMAIL_WORKER_POLL_MS: "50" }, { bundle: true });
    try {
      await vi.waitFor(
        async () => expect(await jobs()).toEqual([expect.objectContaining({ status: "sent" })]),
        {
          timeout: 30_000,
          interval: 100,
        },
      );
    } finally {
      expect(await worker.stop()).toBe(0);
    }
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });

  it("lets psql read and write through the socket in the data directory", async () => {
    const psql = (sql: string) =>
      promisify(execFile)(findPsql(), ["-h", dataDir, "-U", "postgres", "-d", "postgres", "-Atc", sql], {
        timeout: 30_000,
      });
    const email = uniqueEmail("psql");
    await createParleyClient({ url: server.url }).auth.register.mutate({
      email,
      password: GOOD_PASSWORD,
      displayName: "Before SQL",
    });
    expect((await psql(`select display_name from users where email = '${email}'`)).stdout.trim()).toBe(
      "Before SQL",
    );
    await psql(`update users set display_name = 'Renamed in SQL' where email = '${email}'`);
    const login = await createParleyClient({ url: server.url }).auth.login.mutate({
      email,
      password: GOOD_PASSWORD,
    });
    expect(login.user.displayName).toBe("Renamed in SQL");
  });
});

describe("administration with no server running", () => {
  it("opens the data directory itself, and leaves it to the server that starts next", async () => {
    const alone = join(root, "alone");
    const email = uniqueEmail("alone");
    const created = await runStartScript(["admin-create", "--email", email], `${GOOD_PASSWORD}\n`, {
      DATA_DIR: alone,
    });
    expect(created.out).toContain(`created admin ${email}`);
    expect(created.code).toBe(0);
    const next = await spawnServer({ DATA_DIR: alone }, { bundle: true });
    try {
      const login = await createParleyClient({ url: next.url }).auth.login.mutate({
        email,
        password: GOOD_PASSWORD,
      });
      expect(login.user.role).toBe("admin");
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });
});

describe("admin:create's expected failures are one line that says what to do", () => {
  it("names the process that holds a data directory without sharing it", async () => {
    const held = join(root, "held");
    mkdirSync(held, { recursive: true });
    // A live process that is no server (this test's own): it holds the lock and shares nothing.
    writeFileSync(join(held, "lock"), String(process.pid));
    const result = await runStartScript(["admin-create", "--email", uniqueEmail()], `${GOOD_PASSWORD}\n`, {
      DATA_DIR: held,
    });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      new RegExp(
        `is in use by another Parley process \\(pid ${process.pid}\\), which does not share it.*stop that process`,
      ),
    );
    expectOneLine(result.out);
  });

  it("says what is wrong with a new admin's password, and creates nothing", async () => {
    const email = uniqueEmail("short");
    const result = await runStartScript(["admin-create", "--email", email], "short\n", env);
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/^password: /);
    expectOneLine(result.out);
    await expect(
      createParleyClient({ url: server.url }).auth.login.mutate({ email, password: "short" }),
    ).rejects.toThrow();
  });

  it("names an unknown option", async () => {
    const badOption = await runStartScript(["admin-create", "--emial", "x@example.com"], "", env);
    expect(badOption.code).toBe(1);
    expect(badOption.out).toMatch(/--emial/);
    expectOneLine(badOption.out);
  });
});
