import { stat } from "node:fs/promises";
import { join } from "node:path";
import { createParleyClient, type ParleyClient } from "@parley/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type RestartableServer,
  startRestartableServer,
} from "../../server/test/support/restartable-server.ts";
import { freshConfigHome, runParley, startParley } from "./cli-process.ts";
import { parseCsv } from "./parse-csv.ts";

const PASSWORD = "correct horse battery staple";

let server: RestartableServer;
beforeAll(async () => {
  server = await startRestartableServer();
});
afterAll(() => server?.close());

let counter = 0;
const uniqueEmail = (name: string) => `${name}-${process.pid}-${++counter}@example.com`;

async function signUp(displayName: string): Promise<{ email: string; api: ParleyClient }> {
  const email = uniqueEmail(displayName.toLowerCase());
  const { token } = await createParleyClient({ url: server.url }).auth.register.mutate({
    email,
    password: PASSWORD,
    displayName,
  });
  return { email, api: createParleyClient({ url: server.url, token: token ?? "" }) };
}

/** A config home with a session for this account, made by `parley login`. */
async function loggedIn(email: string): Promise<string> {
  const configHome = await freshConfigHome();
  const login = await runParley(["login", "--email", email], {
    configHome,
    url: server.url,
    stdin: `${PASSWORD}\n`,
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
      stdin: `${PASSWORD}\n`,
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
