import { randomUUID } from "node:crypto";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createParleyClient } from "@parley/client";
import { GOOD_PASSWORD, signUpAt, uniqueEmail } from "@parley/testing/accounts";
import { freePort } from "@parley/testing/free-port";
import { type RestartableServer, startRestartableServer } from "@parley/testing/restartable-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../src/cli-error.ts";
import { commands } from "../src/commands/index.ts";
import { freshConfigHome, runParley, startParley } from "./cli-process.ts";
import { parseCsv } from "./parse-csv.ts";

let server: RestartableServer;
beforeAll(async () => {
  server = await startRestartableServer();
});
afterAll(() => server?.close());

/** Someone signed up over the API (the test kit's one sign-up), for the CLI to log in as. */
const signUp = (displayName: string) => signUpAt(server.url, displayName);

/** A config home with a session for this account, made by `parley login`. */
async function loggedIn(email: string): Promise<string> {
  const configHome = await freshConfigHome();
  const login = await runParley(["login", "--email", email], {
    configHome,
    url: server.url,
    stdin: `${GOOD_PASSWORD}\n`,
  });
  expect(login).toMatchObject({ code: 0 });
  return configHome;
}

describe("parley login", () => {
  it("exits 3 with a clear message on stderr, and stores nothing, for a wrong password", async () => {
    const { email } = await signUp("Wrong");
    const configHome = await freshConfigHome();
    const run = await runParley(["login", "--email", email], {
      configHome,
      url: server.url,
      stdin: "not my password\n",
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(`parley: Wrong email or password for ${server.url}.\n`);
    expect(run.stdout).toBe("");
    await expect(stat(join(configHome, "parley", "config.json"))).rejects.toThrow(/ENOENT/);
  });

  it("keeps the token in a file only its owner can read, and later commands use it", async () => {
    const { email } = await signUp("Keeper");
    const configHome = await loggedIn(email);
    const file = await stat(join(configHome, "parley", "config.json"));
    expect(file.mode & 0o777).toBe(0o600);
    expect((await stat(join(configHome, "parley"))).mode & 0o777).toBe(0o700);
    const whoami = await runParley(["whoami"], { configHome });
    expect(whoami).toMatchObject({ code: 0, stdout: `Keeper <${email}> (user) on ${server.url}\n` });
  });

  it("says how to sign in, with exit code 3, when there is no session", async () => {
    const run = await runParley(["rooms", "list"], { configHome: await freshConfigHome(), url: server.url });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("Not signed in");
    expect(run.stderr).toContain("parley login");
  });

  it("refuses an unknown option with exit code 2", async () => {
    const run = await runParley(["rooms", "list", "--colour"], { configHome: await freshConfigHome() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Unknown option '--colour'");
  });
});

describe("parley rooms and send", () => {
  it("creates a room, lists it, and sends to it by name", async () => {
    const { email, api } = await signUp("Writer");
    const configHome = await loggedIn(email);
    const created = await runParley(["rooms", "create", "Release train", "--description", "Ship it"], {
      configHome,
    });
    expect(created.code).toBe(0);
    const roomId = /: ([0-9a-f-]{36})$/m.exec(created.stdout)?.[1] ?? "";
    const list = await runParley(["rooms", "list"], { configHome });
    expect(list.stdout).toMatch(new RegExp(`^Release train +${roomId} +1 +0 +public, owner$`, "m"));
    const sent = await runParley(["send", "Release train", "v1.2", "is", "out"], { configHome });
    expect(sent).toMatchObject({ code: 0, stdout: "Sent to Release train (#2).\n" });
    const { items } = await api.chat.messages.list.query({ roomId });
    expect(items.map((m) => m.content)).toEqual(["v1.2 is out"]);
  });
});

describe("parley tail", () => {
  it("prints messages sent from another client, and resumes after the server restarts", async () => {
    const ada = await signUp("Ada");
    const room = await ada.api.chat.rooms.create.mutate({ name: "Ops", isPrivate: false });
    await ada.api.chat.messages.send.mutate({ roomId: room.id, content: "earlier", clientMessageId: "e1" });
    const { email } = await signUp("Watcher");
    const configHome = await loggedIn(email);
    const tail = startParley(["tail", "Ops"], { configHome });
    try {
      await tail.until(({ stderr }) => stderr.includes("tailing Ops"));
      expect(tail.stdout()).toMatch(/^\[\d\d:\d\d:\d\d\] Ada: earlier\n$/);

      await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: "deploy started",
        clientMessageId: "m1",
      });
      await tail.until(({ stdout }) => stdout.includes("Ada: deploy started"));

      await server.stop();
      await tail.until(({ stderr }) => stderr.includes("connection lost: reconnecting…"));
      await server.start();
      // Sent the moment the server is back, while tail is still waiting out its backoff.
      await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: "deploy finished",
        clientMessageId: "m2",
      });
      await tail.until(
        ({ stderr, stdout }) => stderr.includes("reconnected") && stdout.includes("deploy finished"),
      );
      await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: "all green",
        clientMessageId: "m3",
      });
      await tail.until(({ stdout }) => stdout.includes("Ada: all green"));

      const lines = tail
        .stdout()
        .trimEnd()
        .split("\n")
        .map((line) => line.replace(/^\[[\d:]+\] /, ""));
      expect(lines).toEqual([
        "Ada: earlier",
        "Ada: deploy started",
        "Ada: deploy finished",
        "Ada: all green",
      ]);
    } finally {
      tail.child.kill("SIGINT");
    }
    expect(await tail.exited).toBe(0);
  });
});

describe("parley admin and submissions", () => {
  it("makes an admin in the database, who lists submissions as valid CSV and promotes a user", async () => {
    const adminEmail = uniqueEmail("admin");
    const configHome = await freshConfigHome();
    const create = await runParley(["admin", "create", "--email", adminEmail, "--name", "Operator"], {
      configHome,
      stdin: `${GOOD_PASSWORD}\n`,
      env: { DATABASE_URL: server.databaseUrl, LOG_LEVEL: "warn" },
    });
    expect(create.stderr).toBe("");
    expect(create).toMatchObject({ code: 0 });
    expect(create.stdout).toContain(`created admin ${adminEmail}`);

    const anonymous = createParleyClient({ url: server.url });
    await anonymous.forms.contact.submit.mutate({
      name: "Grace Hopper",
      email: "grace@example.com",
      subject: "Quote, please",
      message: 'We need "Parley" for 40 people,\nwith SSO.',
      website: "",
    });
    await anonymous.forms.demo.submit.mutate({
      name: '=HYPERLINK("http://evil.example")',
      workEmail: "alan@bletchley.example",
      company: "Bletchley, Ltd",
      companySize: "51-200",
      useCase: "Support chat next to our contact forms.",
      phone: "+44 20 7946 0000",
      website: "",
    });

    const adminHome = await loggedIn(adminEmail);
    const csv = await runParley(["submissions", "list", "--csv"], { configHome: adminHome });
    expect(csv.code).toBe(0);
    const [header, ...rows] = parseCsv(csv.stdout);
    expect(header).toEqual([
      "id",
      "created_at",
      "kind",
      "status",
      "name",
      "email",
      "company",
      "subject",
      "message",
      "company_size",
      "role",
      "use_case",
      "preferred_date",
      "timezone",
      "phone",
    ]);
    const byEmail = new Map(rows.map((row) => [row[5], row]));
    expect(byEmail.get("grace@example.com")?.slice(2, 9)).toEqual([
      "contact",
      "new",
      "Grace Hopper",
      "grace@example.com",
      "",
      "Quote, please",
      'We need "Parley" for 40 people,\nwith SSO.',
    ]);
    const demo = byEmail.get("alan@bletchley.example");
    // A formula from a public form is defused; a phone number is left alone.
    expect(demo?.[4]).toBe('\'=HYPERLINK("http://evil.example")');
    expect(demo?.[6]).toBe("Bletchley, Ltd");
    expect(demo?.[14]).toBe("+44 20 7946 0000");

    const contacted = await runParley(["submissions", "list", "--status", "contacted", "--csv"], {
      configHome: adminHome,
    });
    expect(parseCsv(contacted.stdout)).toEqual([header]); // nobody contacted yet: the header alone
    const bad = await runParley(["submissions", "list", "--status", "pending"], { configHome: adminHome });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--status must be one of: new, contacted, qualified, closed");

    const bob = await signUp("Bob");
    const promote = await runParley(["users", "set-role", bob.email, "admin"], { configHome: adminHome });
    expect(promote).toMatchObject({ code: 0, stdout: `Bob <${bob.email}> is now an admin.\n` });
    expect(await bob.api.auth.me.query()).toMatchObject({ role: "admin" });
  });

  it("refuses submissions to someone who is not an admin, with exit code 1", async () => {
    const { email } = await signUp("Curious");
    const run = await runParley(["submissions", "list"], { configHome: await loggedIn(email) });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^parley: Not allowed: /);
  });
});

describe("parley audit list", () => {
  it("lists an admin's own sign-in by actor email, filters by action and limit, as a table", async () => {
    const admin = await adminHome();
    const home = { configHome: admin.configHome };
    const mine = await runParley(
      ["audit", "list", "--actor", admin.email, "--action", "auth.login", "--json"],
      home,
    );
    expect(mine).toMatchObject({ code: 0, stderr: "" });
    const entries = parseJson(mine.stdout) as { action: string; actor: { email: string } | null }[];
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: "auth.login", actor: { email: admin.email } });

    const table = await runParley(["audit", "list", "--actor", admin.email, "--from", "2000-01-01"], home);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^AT \(UTC\)\s+ACTION\s+ACTOR\s+TARGET\s+IP\s+DETAILS$/);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`auth.login  ${admin.email}`);

    const one = await runParley(["audit", "list", "--limit", "1", "--json"], home);
    expect(parseJson(one.stdout)).toHaveLength(1);
    const none = await runParley(["audit", "list", "--actor", admin.email, "--to", "2000-01-01"], home);
    expect(none).toMatchObject({ code: 0, stdout: "No audit entries match.\n" });
  });

  it("exits 2 for a bad action or time, 4 for an unknown actor email, 1 for a non-admin", async () => {
    const admin = await adminHome();
    const home = { configHome: admin.configHome };
    const badAction = await runParley(["audit", "list", "--action", "auth.nothing"], home);
    expect(badAction.code).toBe(2);
    expect(badAction.stderr).toContain("--action must be one of: auth.login, auth.login_failed");
    const badTime = await runParley(["audit", "list", "--from", "yesterday"], home);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain("--from must be a date");
    const unknown = await runParley(["audit", "list", "--actor", uniqueEmail("ghost")], home);
    expect(unknown.code).toBe(4);
    const { email } = await signUp("Curious");
    const refused = await runParley(["audit", "list"], { configHome: await loggedIn(email) });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^parley: Not allowed: /);
  });
});

/** A config home signed in as a new admin (made in the database, as an operator would). */
async function adminHome(): Promise<{ email: string; configHome: string }> {
  const email = uniqueEmail("admin");
  await server.createAdmin({ email, password: GOOD_PASSWORD, displayName: "Operator" });
  return { email, configHome: await loggedIn(email) };
}

const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Parses JSON, failing the test with the text when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON:\n${text}`);
  }
}

/**
 * One check per listing: each runs it with --json against real data and checks the fields. A
 * listing added to the command table without an entry here fails the first test below.
 */
const jsonListingChecks: Record<string, () => Promise<void>> = {
  async "audit list"() {
    const admin = await adminHome();
    const bob = await signUp("Bob");
    expect(
      await createParleyClient({ url: server.url })
        .auth.login.mutate({ email: bob.email, password: "not bob's password" })
        .catch(() => "refused"),
    ).toBe("refused");
    const run = await runParley(["audit", "list", "--json", "--target", bob.user.id], {
      configHome: admin.configHome,
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(parseJson(run.stdout)).toEqual([
      {
        id: expect.any(String),
        at: expect.stringMatching(ISO_TIME),
        action: "auth.login_failed",
        actorId: null,
        actor: null,
        targetType: "user",
        targetId: bob.user.id,
        roomId: null,
        ip: expect.any(String),
        details: { knownAccount: true },
      },
    ]);
  },

  async "rooms list"() {
    const { email, api } = await signUp("Lister");
    const room = await api.chat.rooms.create.mutate({ name: `JSON room ${randomUUID()}`, isPrivate: true });
    const run = await runParley(["rooms", "list", "--json", "--search", room.name], {
      configHome: await loggedIn(email),
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const rooms = parseJson(run.stdout);
    expect(rooms).toEqual([
      {
        id: room.id,
        name: room.name,
        description: null,
        isPrivate: true,
        memberCount: 1,
        myRole: "owner",
        unreadCount: 0,
        lastSeq: expect.any(Number),
        createdAt: expect.stringMatching(ISO_TIME),
      },
    ]);
  },

  async "users list"() {
    const admin = await adminHome();
    const bob = await signUp("Bob");
    const run = await runParley(["users", "list", "--json", "--search", bob.email], {
      configHome: admin.configHome,
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(parseJson(run.stdout)).toEqual([
      {
        id: expect.any(String),
        email: bob.email,
        displayName: "Bob",
        role: "user",
        emailVerified: false,
        createdAt: expect.stringMatching(ISO_TIME),
      },
    ]);
  },

  async "submissions list"() {
    const admin = await adminHome();
    const email = uniqueEmail("lead");
    await createParleyClient({ url: server.url }).forms.contact.submit.mutate({
      name: "Ada Lovelace",
      email,
      subject: "A quote",
      message: "For 12 people,\nplease.",
      website: "",
    });
    const run = await runParley(["submissions", "list", "--json", "--kind", "contact"], {
      configHome: admin.configHome,
    });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const submissions = parseJson(run.stdout);
    expect(Array.isArray(submissions)).toBe(true);
    expect((submissions as { email: string }[]).filter((s) => s.email === email)).toEqual([
      {
        id: expect.any(String),
        createdAt: expect.stringMatching(ISO_TIME),
        kind: "contact",
        status: "new",
        name: "Ada Lovelace",
        email,
        company: null,
        fields: {
          subject: "A quote",
          message: "For 12 people,\nplease.",
          companySize: null,
          role: null,
          useCase: null,
          preferredDate: null,
          timezone: null,
          phone: null,
        },
      },
    ]);
    const both = await runParley(["submissions", "list", "--json", "--csv"], {
      configHome: admin.configHome,
    });
    expect(both.code).toBe(ExitCode.usage);
  },

  async tail() {
    const ada = await signUp("Ada");
    const room = await ada.api.chat.rooms.create.mutate({ name: `Tail ${randomUUID()}`, isPrivate: false });
    await ada.api.chat.messages.send.mutate({ roomId: room.id, content: "before", clientMessageId: "b" });
    const { email } = await signUp("Watcher");
    const tail = startParley(["tail", room.id, "--json"], { configHome: await loggedIn(email) });
    const lines = () => tail.stdout().split("\n").filter(Boolean).map(parseJson);
    try {
      await tail.until(({ stderr }) => stderr.includes("tailing"));
      const sent = await ada.api.chat.messages.send.mutate({
        roomId: room.id,
        content: "after",
        clientMessageId: "a",
      });
      await ada.api.chat.messages.edit.mutate({ messageId: sent.id, content: "after, edited" });
      await ada.api.chat.messages.delete.mutate({ messageId: sent.id });
      await tail.until(({ stdout }) => stdout.includes("message.deleted"));
    } finally {
      tail.child.kill("SIGINT");
    }
    expect(await tail.exited).toBe(0);
    // Notices are JSON lines too.
    expect(tail.stderr().split("\n").filter(Boolean).map(parseJson)).toContainEqual({
      notice: `tailing ${room.name} (Ctrl-C to stop)`,
    });
    const message = (content: string, seq: number) => ({
      id: expect.any(String),
      seq,
      userId: expect.any(String),
      authorName: "Ada",
      content,
      createdAt: expect.stringMatching(ISO_TIME),
      editedAt: null,
      deletedAt: null,
    });
    const [before, after, edited, deleted] = lines();
    expect(before).toEqual({
      type: "message.created",
      roomId: room.id,
      seq: 2,
      message: message("before", 2),
    });
    expect(after).toEqual({ type: "message.created", roomId: room.id, seq: 3, message: message("after", 3) });
    expect(edited).toEqual({
      type: "message.updated",
      roomId: room.id,
      seq: 4,
      messageId: expect.any(String),
      content: "after, edited",
      editedAt: expect.stringMatching(ISO_TIME),
    });
    expect(deleted).toEqual({
      type: "message.deleted",
      roomId: room.id,
      seq: 5,
      messageId: expect.any(String),
      deletedAt: expect.stringMatching(ISO_TIME),
    });
    expect(lines()).toHaveLength(4);
  },
};

describe("parley --json", () => {
  it("has a check below for every listing in the command table (each command that takes --json)", async () => {
    const listings: string[] = [];
    for (const entry of commands) if ((await entry.load()).json) listings.push(entry.name);
    expect(Object.keys(jsonListingChecks).sort()).toEqual(listings.sort());
  });

  for (const [name, check] of Object.entries(jsonListingChecks)) {
    it(`${name} --json prints the documented fields, times in ISO 8601`, check);
  }

  it("prints an error as one JSON line on stderr, with the exit code's name and number", async () => {
    const run = await runParley(["rooms", "list", "--json"], {
      configHome: await freshConfigHome(),
      url: server.url,
    });
    expect(run).toMatchObject({ code: ExitCode.auth, stdout: "" });
    expect(run.stderr.endsWith("}\n")).toBe(true);
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(parseJson(run.stderr)).toEqual({
      error: {
        code: "auth",
        exitCode: 3,
        message: `Not signed in to ${server.url}: run \`parley login --url ${server.url}\` first.`,
      },
    });
  });
});

describe("parley exit codes", () => {
  it("exits 2 for a usage error: a missing argument", async () => {
    const run = await runParley(["rooms", "create"], {
      configHome: await freshConfigHome(),
      url: server.url,
    });
    expect(run).toMatchObject({ code: ExitCode.usage, stdout: "" });
    expect(run.stderr).toContain("usage: parley rooms create NAME");
  });

  it("exits 4 for a room that does not exist, by name or by id, and for an unknown user's email", async () => {
    const { email } = await signUp("Seeker");
    const configHome = await loggedIn(email);
    const byName = await runParley(["send", "No such room", "hello"], { configHome });
    expect(byName).toMatchObject({ code: ExitCode.notFound, stdout: "" });
    expect(byName.stderr).toContain('No room named "No such room"');
    const byId = await runParley(["tail", randomUUID()], { configHome });
    expect(byId).toMatchObject({ code: ExitCode.notFound, stdout: "" });
    const admin = await adminHome();
    const user = await runParley(["users", "set-role", uniqueEmail("nobody"), "admin"], {
      configHome: admin.configHome,
    });
    expect(user).toMatchObject({ code: ExitCode.notFound, stdout: "" });
    expect(user.stderr).toContain("No user with the email");
  });

  it("exits 5 when nobody listens at the server's URL, with and without --json", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const run = await runParley(["login", "--email", uniqueEmail("early")], {
      configHome: await freshConfigHome(),
      url,
      stdin: `${GOOD_PASSWORD}\n`,
    });
    expect(run).toMatchObject({ code: ExitCode.unreachable, stdout: "" });
    expect(run.stderr).toMatch(
      new RegExp(`^parley: Cannot reach the Parley server at ${url} .*Try --url\\.\n$`),
    );

    // A session kept for that server from before it went away.
    const configHome = await freshConfigHome();
    await mkdir(join(configHome, "parley"), { recursive: true });
    const config = { lastUrl: url, servers: { [url]: { token: "a-token", email: "gone@example.com" } } };
    await writeFile(join(configHome, "parley", "config.json"), JSON.stringify(config));
    const json = await runParley(["rooms", "list", "--json"], { configHome });
    expect(json).toMatchObject({ code: ExitCode.unreachable, stdout: "" });
    expect(parseJson(json.stderr)).toEqual({
      error: {
        code: "unreachable",
        exitCode: 5,
        message: expect.stringContaining(`Cannot reach the Parley server at ${url}`),
      },
    });
  });
});
