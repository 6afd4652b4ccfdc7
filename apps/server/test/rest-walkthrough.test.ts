import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { uniqueEmail } from "@parley/testing/accounts";
import { createConditionWaiter } from "@parley/testing/condition-waiter";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// docs/rest.md's commands, run as a reader would run them: curl (and jq) in one shell, block
// after block, then its Python script. A change to the API that breaks the walkthrough fails here.
const run = promisify(execFile);
const doc = readFileSync(fileURLToPath(new URL("../../../docs/rest.md", import.meta.url)), "utf8");
const blocks = (language: string) =>
  [...doc.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map((match) => match[1] ?? "");

let t: TestServer;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "parley-walkthrough-"));
  // The uploaded file lands under DATA_DIR/files: the test's own directory, removed after.
  t = await startTestServer({ dataDir: dir });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("docs/rest.md", () => {
  it("the curl walkthrough runs against a real server and gets the answers it describes", async () => {
    const shell = blocks("sh");
    expect(shell.length).toBeGreaterThanOrEqual(6);
    const names = [
      ...new Set(shell.flatMap((block) => [...block.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]))),
    ];
    const state = join(dir, "state.sh");
    writeFileSync(state, "");
    const email = uniqueEmail("walkthrough");
    const env = { PATH: process.env.PATH ?? "", PARLEY: t.url, EMAIL: email };
    // The variables one block sets, carried to the next as one shell session would.
    const script = (block: string) =>
      `set -euo pipefail\nsource ${JSON.stringify(state)}\n${block}\n` +
      `for name in ${names.join(" ")}; do if [[ -v $name ]]; then declare -p "$name"; fi; done > ${JSON.stringify(state)}\n`;

    const outputs: string[] = [];
    let stream: { output: string; block: string } | null = null;
    for (const block of shell) {
      if (block.includes("/events")) {
        stream = { output: await followStream(script(block), env), block };
        continue;
      }
      const { stdout } = await run("bash", ["-c", script(block)], { env, cwd: dir });
      outputs.push(stdout);
    }
    const [setup, signIn, rooms, sent, errors, upload] = outputs;
    expect(setup).toBe("");
    expect(signIn).toBe(`"Ada"\n${email}\n`);
    expect(rooms).toBe("General\n");
    expect(sent).toBe("Hello from curl\n");
    const [invalid, status] = (errors ?? "").trim().split("\n");
    expect(JSON.parse(invalid ?? "{}")).toMatchObject({
      code: "BAD_REQUEST",
      fields: { name: expect.any(Array) },
    });
    expect(status).toBe("401");
    const file = /^declare -- FILE="?([0-9a-f-]{36})"?$/m.exec(readFileSync(state, "utf8"))?.[1];
    expect(upload).toBe(`text/plain\n/api/v1/files/${file}\nMinutes of the meeting\n`);

    const seq = /^declare -- SEQ="?(\d+)"?$/m.exec(readFileSync(state, "utf8"))?.[1];
    expect(seq).toBeDefined();
    expect(stream?.output).toContain(`id: ${seq}\ndata: {"seq":${seq},"type":"message.created"`);
    expect(stream?.output).toContain('"content":"Hello from curl"');
  });

  it("the Python script signs in, uploads a file, sends it, and prints the room's events from its own message on", async () => {
    const [python] = blocks("python");
    const file = join(dir, "parley_rest.py");
    writeFileSync(file, python ?? "");
    const email = uniqueEmail("python");
    await t
      .client()
      .auth.register.mutate({ email, password: "correct horse battery staple", displayName: "Py" });
    const { stdout } = await run(
      "python3",
      [file, t.url, email, "correct horse battery staple", "Snakes", "--max-events", "1"],
      { env: { PATH: process.env.PATH ?? "" }, timeout: 30_000 },
    );
    const [sentLine, eventLine] = stdout.trim().split("\n");
    const seq = /^sent #(\d+) to Snakes$/.exec(sentLine ?? "")?.[1];
    expect(seq).toBeDefined();
    expect(eventLine).toBe(`${seq} message.created Hello from Python [hello.txt]`);
  });
});

/** Runs the streaming block until it printed the event it replays, then stops it as Ctrl-C would. */
async function followStream(script: string, env: Record<string, string>): Promise<string> {
  const child: ChildProcess = spawn("bash", ["-c", script], {
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited = false;
  const { notify, until } = createConditionWaiter();
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    notify();
  });
  child.once("exit", () => {
    exited = true;
    notify();
  });
  await until(() => exited || output.includes('"content":"Hello from curl"'));
  if (!exited && child.pid) process.kill(-child.pid, "SIGINT");
  return output;
}
