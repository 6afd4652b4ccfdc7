import { readFile, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@parley/testing/free-port";
import { describe, expect, it } from "vitest";
import { EXIT_CODE_HELP, ExitCode, type ExitCodeName } from "../src/cli-error.ts";
import { commands } from "../src/commands/index.ts";
import { freshConfigHome, runParley } from "./cli-process.ts";

// No server here: what these commands print needs none.

const cliDir = fileURLToPath(new URL("..", import.meta.url));
const packageVersion = async () =>
  (JSON.parse(await readFile(join(cliDir, "package.json"), "utf8")) as { version: string }).version;

describe("parley --version", () => {
  it("prints the version in the CLI's package.json, with --version and with -V", async () => {
    const version = await packageVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    const configHome = await freshConfigHome();
    for (const flag of ["--version", "-V"]) {
      expect(await runParley([flag], { configHome })).toEqual({
        code: 0,
        stdout: `${version}\n`,
        stderr: "",
      });
    }
  });
});

describe("parley --help", () => {
  it("prints every command's own usage, exit code 0, for each command in the command table", async () => {
    const configHome = await freshConfigHome();
    for (const entry of commands) {
      const run = await runParley([...entry.name.split(" "), "--help"], { configHome });
      expect(run, entry.name).toMatchObject({ code: 0, stderr: "" });
      expect(run.stdout, entry.name).toContain(`parley ${entry.name}: ${entry.summary}\n`);
      expect(run.stdout, entry.name).toContain(`Usage: parley ${entry.name}`);
      expect(run.stdout, entry.name).toContain("Exit codes:");
    }
  });

  it("prints the commands of a group for `parley rooms --help` and `parley help rooms`, exit code 0", async () => {
    const configHome = await freshConfigHome();
    const groups = new Set(
      commands.flatMap((c) => (c.name.includes(" ") ? [c.name.split(" ")[0] ?? ""] : [])),
    );
    expect(groups.size).toBeGreaterThan(0);
    for (const group of groups) {
      for (const args of [
        [group, "--help"],
        ["help", group],
        [group, "-h"],
      ]) {
        const run = await runParley(args, { configHome });
        expect(run, args.join(" ")).toMatchObject({ code: 0, stderr: "" });
        expect(run.stdout).toContain(`Usage: parley ${group} COMMAND`);
        for (const entry of commands.filter((c) => c.name.startsWith(`${group} `))) {
          expect(run.stdout).toContain(`  ${entry.name}`);
        }
      }
    }
  });

  it("offers --json in the help of the listings, and only theirs", async () => {
    const configHome = await freshConfigHome();
    const listings: string[] = [];
    for (const entry of commands) {
      const command = await entry.load();
      const run = await runParley([...entry.name.split(" "), "--help"], { configHome });
      expect(run.stdout.includes("  --json "), entry.name).toBe(command.json !== undefined);
      if (command.json) listings.push(entry.name);
    }
    expect(listings.sort()).toEqual(["audit list", "rooms list", "submissions list", "tail", "users list"]);
  });

  it("lists every exit code of the CLI in `parley --help`", async () => {
    const run = await runParley(["--help"], { configHome: await freshConfigHome() });
    expect(run.code).toBe(0);
    const section = run.stdout.slice(run.stdout.indexOf("Exit codes:"));
    const listed = [...section.matchAll(/^ {2}(\d+) {2}(.+)$/gm)].map(([, code, text]) => [
      Number(code),
      text,
    ]);
    expect(listed).toEqual(
      (Object.keys(ExitCode) as ExitCodeName[]).map((name) => [ExitCode[name], EXIT_CODE_HELP[name]]),
    );
    for (const entry of commands) expect(run.stdout).toContain(`  ${entry.name}`);
  });

  it("lists the same exit codes in the README's CLI section as in `parley --help`", async () => {
    const readme = await readFile(join(cliDir, "..", "..", "README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("## The CLI"),
      readme.indexOf("\n## ", readme.indexOf("## The CLI") + 1),
    );
    const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map(([, code, text]) => [
      Number(code),
      text,
    ]);
    expect(rows).toEqual(
      (Object.keys(ExitCode) as ExitCodeName[]).map((name) => [ExitCode[name], EXIT_CODE_HELP[name]]),
    );
  });

  it("exits 2 for a bare `parley`, a group without its command, and an unknown command", async () => {
    const configHome = await freshConfigHome();
    expect(await runParley([], { configHome })).toMatchObject({ code: 2 });
    const group = await runParley(["rooms"], { configHome });
    expect(group).toMatchObject({ code: 2, stdout: "" });
    expect(group.stderr).toContain('"rooms" needs a subcommand: rooms list, rooms create');
    const unknown = await runParley(["fly", "--json"], { configHome });
    expect(unknown).toMatchObject({ code: 2, stdout: "" });
    expect(JSON.parse(unknown.stderr)).toEqual({
      error: { code: "usage", exitCode: 2, message: 'unknown command "fly" (see parley --help)' },
    });
  });
});

describe("the parley bin", () => {
  /** The URLs of the modules a `parley` run imports (see module-trace.mjs). */
  async function importedModules(args: string[]): Promise<{ code: number | null; urls: string[] }> {
    const trace = join(tmpdir(), `parley-module-trace-${process.pid}-${Date.now()}.txt`);
    try {
      const run = await runParley(args, {
        configHome: await freshConfigHome(),
        stdin: "a password nobody checks\n",
        env: {
          PARLEY_MODULE_TRACE: trace,
          NODE_OPTIONS: `--import ${new URL("module-trace.mjs", import.meta.url).href}`,
        },
      });
      return { code: run.code, urls: (await readFile(trace, "utf8")).trim().split("\n") };
    } finally {
      await rm(trace, { force: true });
    }
  }

  it("runs the bundle in dist/: it loads neither tsx nor any TypeScript source", async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    // --version, and a login that loads the client (and fails: nobody listens there).
    for (const args of [["--version"], ["login", "--email", "a@example.com", "--url", unreachable]]) {
      const { code, urls } = await importedModules(args);
      expect(code).toBe(args[0] === "--version" ? ExitCode.ok : ExitCode.unreachable);
      expect(urls).toContain(`file://${join(cliDir, "dist", "main.mjs")}`);
      expect(urls.filter((url) => url.includes("/tsx/") || /\.[cm]?tsx?$/.test(url))).toEqual([]);
      expect(urls.filter((url) => url.startsWith("file:") && !url.includes("/dist/"))).toEqual([
        `file://${join(cliDir, "bin", "parley.mjs")}`,
        `file://${join(cliDir, "build.mjs")}`,
        `file://${join(cliDir, "..", "..", "tooling", "on-demand-build", "index.mjs")}`,
      ]);
    }
  });

  it("rebuilds dist/ when a source is newer than the build, and only then", async () => {
    const info = join(cliDir, "dist", "build-info.json");
    const builtAt = async () => (JSON.parse(await readFile(info, "utf8")) as { builtAt: string }).builtAt;
    const configHome = await freshConfigHome();
    await runParley(["--version"], { configHome });
    const before = await builtAt();
    await runParley(["--version"], { configHome });
    expect(await builtAt()).toBe(before);

    // Same content, later modification time: the bundle's chunks keep their names, so a
    // `parley` running beside this test is not disturbed.
    const source = join(cliDir, "src", "output-table.ts");
    const later = new Date(Date.now() + 1000);
    await utimes(source, later, later);
    const rebuilt = await runParley(["--version"], { configHome });
    expect(rebuilt).toMatchObject({ code: 0, stdout: `${await packageVersion()}\n`, stderr: "" });
    const after = await builtAt();
    expect(after).not.toBe(before);
    await runParley(["--version"], { configHome });
    expect(await builtAt()).toBe(after);
  });
});
