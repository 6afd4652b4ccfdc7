import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "./create-db.ts";
import { DataDirLockedError } from "./data-dir-lock.ts";
import { migrate } from "./migrate.ts";
import { copyPgliteTemplate } from "./pglite-template.ts";
import { createPgliteTemplate } from "./pglite-template-build.ts";
import { users } from "./schema.ts";

const dirs: string[] = [];
const handles: DbHandle[] = [];
afterEach(async () => {
  for (const h of handles.splice(0)) await h.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "parley-db-"));
  dirs.push(dir);
  return dir;
}

async function open(options: Parameters<typeof createDb>[0]) {
  const handle = await createDb(options);
  handles.push(handle);
  return handle;
}

// PGlite's initdb takes seconds of CPU: the tests about locks start from a template made once for
// the file (the template's own test checks it); the memory and reopen tests go through initdb.
let template = "";
beforeAll(async () => {
  template = join(mkdtempSync(join(tmpdir(), "parley-db-template-")), "template");
  await createPgliteTemplate(template);
});
afterAll(() => rmSync(dirname(template), { recursive: true, force: true }));

const alice = { id: "u1", email: "alice@example.com", displayName: "Alice", passwordHash: "x" };

describe("PGlite", () => {
  it("applies the migrations in memory and round-trips a user", async () => {
    const handle = await open({ memory: true });
    await migrate(handle);
    await handle.db.insert(users).values(alice);
    const [row] = await handle.db.select().from(users).where(eq(users.id, "u1"));
    expect(row?.email).toBe("alice@example.com");
    expect(row?.role).toBe("user");
  });

  it("keeps data across a close and reopen of the same directory, creating missing parents", async () => {
    const dataDir = join(tempDir(), "nested", "data");
    const first = await createDb({ dataDir });
    await migrate(first);
    await first.db.insert(users).values(alice);
    await first.close();

    const second = await open({ dataDir });
    await migrate(second);
    const rows = await second.db.select().from(users);
    expect(rows.map((r) => r.email)).toEqual(["alice@example.com"]);
  });

  it("refuses a second open of a directory another live process holds", async () => {
    const dataDir = tempDir();
    await open({ dataDir, pgliteTemplate: template });
    // This process holds it; pretend to be another live one by writing our parent's pid.
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dataDir, "lock"), String(process.ppid));
    await expect(createDb({ dataDir })).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(createDb({ dataDir })).rejects.toThrow(/in use by another Parley process/);
  });

  it("takes over a lock left by a dead process", async () => {
    const dataDir = tempDir();
    const { writeFileSync, mkdirSync } = await import("node:fs");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "lock"), "999999999");
    const handle = await open({ dataDir, pgliteTemplate: template });
    await handle.ping();
  });
});

describe("PGlite template", () => {
  it("starts a new data directory as a copy of the template, migrated, and leaves existing ones alone", async () => {
    expect(existsSync(join(template, "pgdata", "PG_VERSION"))).toBe(true);
    expect(existsSync(join(template, "lock"))).toBe(false);

    const dataDir = join(tempDir(), "data");
    const first = await createDb({ dataDir, pgliteTemplate: template });
    // The template went through the migrations: the tables are there before migrate() runs.
    await first.db.insert(users).values(alice);
    await migrate(first);
    await first.close();

    // An existing database is never replaced by the template.
    const second = await open({ dataDir, pgliteTemplate: template });
    const rows = await second.db.select().from(users);
    expect(rows.map((r) => r.email)).toEqual(["alice@example.com"]);
  });

  it("ignores a template made by another PGlite version", async () => {
    const template = join(tempDir(), "template");
    mkdirSync(join(template, "pgdata"), { recursive: true });
    writeFileSync(join(template, "pgdata", "PG_VERSION"), "17\n");
    writeFileSync(join(template, "parley-template.json"), JSON.stringify({ pglite: "0.0.0-other" }));
    const pgdata = join(tempDir(), "pgdata");
    expect(copyPgliteTemplate(template, pgdata)).toBe(false);
    expect(existsSync(pgdata)).toBe(false);
  });
});
