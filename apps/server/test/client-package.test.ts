import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { GOOD_PASSWORD, uniqueEmail } from "@parley/testing/accounts";
import { roomWith, send } from "@parley/testing/chat-fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./support/test-server.ts";

// Here rather than in packages/client: the script needs a running server, and this suite already
// has one (startTestServer, with its database on the run's PostgreSQL).

const run = promisify(execFile);
const clientDir = fileURLToPath(new URL("../../../packages/client", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "parley-client-package-"));
const projectDir = join(workDir, "project");

/** The versions the workspace uses, so npm finds them in its cache when it has run before. */
function workspaceVersion(name: string): string {
  const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(manifest, "utf8")) as { version: string }).version;
}

/** The environment without what pnpm sets for its scripts (npm would read it as its own config). */
function plainEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^(npm_|pnpm_)/i.test(key) && key !== "NODE_OPTIONS"),
  );
}

async function inProject(command: string, args: string[]) {
  return run(command, args, { cwd: projectDir, env: plainEnv(), timeout: 120_000 });
}

/** The project's own tsc: its output and exit code, without throwing on a failed check. */
async function typeCheck(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await inProject(join(projectDir, "node_modules", ".bin", "tsc"), args);
    return { code: 0, output: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

const tsconfig = {
  compilerOptions: {
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    noUncheckedIndexedAccess: true,
    // The package's own .d.ts is checked too, not only its use.
    skipLibCheck: false,
    types: ["node"],
    outDir: "out",
    noEmit: true,
  },
  include: ["src"],
};

/** Compiles the script alone to out/: what a project ships, and proof it checks clean by itself. */
const buildTsconfig = {
  extends: "./tsconfig.json",
  compilerOptions: { noEmit: false, rootDir: "src" },
  include: [],
  files: ["src/tail-room.ts"],
};

// Signs up, signs in, joins the room, tails it and exits after printing the first new message.
const tailRoom = `import { createParleyClient, type RoomEvent, TRPCClientError } from "@parley/client";
import WebSocket from "ws";

const [url, email, password, roomId] = process.argv.slice(2);
if (!url || !email || !password || !roomId) throw new Error("usage: tail-room <url> <email> <password> <roomId>");

await createParleyClient({ url }).auth.register.mutate({ email, password, displayName: "Tail" });
const { token, user } = await createParleyClient({ url }).auth.login.mutate({ email, password });
if (!token) throw new Error("login returned no token");
const api = createParleyClient({ url, token, WebSocket });
await api.chat.rooms.join.mutate({ roomId });

const subscription = api.chat.events.subscribe(
  { roomId },
  {
    onStarted() {
      console.log(\`subscribed as \${user.displayName}\`);
    },
    onData({ data }) {
      const event: RoomEvent = data;
      if (event.type !== "message.created") return;
      console.log(\`message from \${event.message.authorName}: \${event.message.content ?? ""}\`);
      subscription.unsubscribe();
      process.exit(0);
    },
    onError(error) {
      console.error(error instanceof TRPCClientError ? \`\${error.data?.code}: \${error.message}\` : error);
      process.exit(1);
    },
  },
);
`;

// Each line marked ERROR must be reported: with types that were \`any\`, none would be.
const wrongTypes = `import { createParleyClient, type RouterOutputs } from "@parley/client";

const api = createParleyClient({ url: "http://localhost:3000" });
await api.chat.rooms.join.mutate({ roomId: 42 }); // ERROR: a room id is a string
type Message = RouterOutputs["chat"]["messages"]["send"];
export const body = (message: Message): string => message.body; // ERROR: messages have no body
export const when: number = (await api.auth.me.query())?.createdAt ?? 0; // ERROR: createdAt is a Date
`;

// A page's use: the DOM's fetch and WebSocket, no Node types, no ws, no token (the session cookie).
const browserPage = `import { createParleyClient } from "@parley/client";

const api = createParleyClient({ url: window.location.origin });
await api.auth.login.mutate({ email: "reader@example.com", password: "correct horse battery staple" });
const { items } = await api.chat.rooms.list.query();
const room = items[0];
if (room) {
  api.chat.events.subscribe(
    { roomId: room.id },
    {
      onData({ data }) {
        if (data.type === "message.created") document.title = \`\${data.message.authorName} wrote\`;
      },
    },
  );
}
`;

const browserTsconfig = {
  compilerOptions: {
    target: "es2022",
    module: "esnext",
    moduleResolution: "bundler",
    strict: true,
    // tRPC's own declarations name Disposable and AsyncDisposable.
    lib: ["es2022", "esnext.disposable", "dom"],
    types: [],
    skipLibCheck: false,
    noEmit: true,
  },
  files: ["browser/page.ts"],
};

/** Resolves with the output so far once a line of the child's stdout matches, rejects if it exits first. */
function lineMatching(child: ChildProcess, pattern: RegExp, output: { text: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      const line = output.text.split("\n").find((candidate) => pattern.test(candidate));
      if (line !== undefined) {
        child.stdout?.off("data", onData);
        child.off("exit", onExit);
        resolve(line);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`the script exited (${code}) before printing ${pattern}:\n${output.text}`));
    child.stdout?.on("data", onData);
    child.once("exit", onExit);
    onData();
  });
}

let t: TestServer;
let tarball: string;
const timings: Record<string, number> = {};

async function timed<T>(name: string, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await step();
  } finally {
    timings[name] = Math.round(performance.now() - started);
  }
}

beforeAll(async () => {
  t = await startTestServer();
  await timed("pack", () =>
    run("pnpm", ["pack", "--pack-destination", workDir], { cwd: clientDir, timeout: 120_000 }),
  );
  const packed = readdirSync(workDir).find((name) => name.endsWith(".tgz"));
  if (!packed) throw new Error(`pnpm pack left no tarball in ${workDir}`);
  tarball = join(workDir, packed);

  mkdirSync(join(projectDir, "src"), { recursive: true });
  writeFileSync(
    join(projectDir, "package.json"),
    JSON.stringify({ name: "parley-client-consumer", private: true, type: "module" }),
  );
  writeFileSync(join(projectDir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  writeFileSync(join(projectDir, "tsconfig.build.json"), JSON.stringify(buildTsconfig, null, 2));
  writeFileSync(join(projectDir, "src", "tail-room.ts"), tailRoom);
  writeFileSync(join(projectDir, "src", "wrong-types.ts"), wrongTypes);
  mkdirSync(join(projectDir, "browser"));
  writeFileSync(join(projectDir, "browser", "page.ts"), browserPage);
  writeFileSync(join(projectDir, "tsconfig.browser.json"), JSON.stringify(browserTsconfig, null, 2));
  await timed("npm install", () =>
    inProject("npm", [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      tarball,
      ...["ws", "@types/ws", "@types/node", "typescript"].map((name) => `${name}@${workspaceVersion(name)}`),
    ]),
  );
}, 180_000);

afterAll(async () => {
  console.log(`[client-package] ${JSON.stringify(timings)}`);
  await t?.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe("@parley/client as a package installed outside the workspace", () => {
  it("ships built JavaScript and one .d.ts that imports only the package's own dependencies", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    expect(stdout.trim().split("\n").sort()).toEqual([
      "package/README.md",
      "package/dist/index.d.ts",
      "package/dist/index.js",
      "package/dist/index.js.map",
      "package/package.json",
    ]);
    const installed = join(projectDir, "node_modules", "@parley", "client");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as {
      exports: unknown;
      dependencies: Record<string, string>;
    };
    expect(manifest.exports).toEqual({ ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } });
    expect(Object.keys(manifest.dependencies).sort()).toEqual(["@trpc/client", "@trpc/server", "superjson"]);
    expect(Object.values(manifest.dependencies).join(" ")).not.toMatch(/workspace:|catalog:/);

    const declarations = readFileSync(join(installed, "dist", "index.d.ts"), "utf8");
    const imported = new Set(
      [...declarations.matchAll(/(?:from\s+|import\()\s*["']([^"']+)["']/g)].map((match) => match[1]),
    );
    expect([...imported].sort()).toEqual([
      "@trpc/client",
      "@trpc/server",
      "@trpc/server/unstable-core-do-not-import",
    ]);
    // The router's types are in it, not behind the server's source.
    expect(declarations).toMatch(/type AppRouter = /);
    // No augmentation of a server library's module (session-module.ts declares one for lucia).
    expect(declarations).not.toMatch(/declare module/);
  });

  it("type-checks a strict project against the package's types, and reports each deliberate error", async () => {
    const { code, output } = await timed("tsc", () => typeCheck(["--noEmit", "-p", "."]));
    expect(code).not.toBe(0);
    const errors = [...output.matchAll(/^(\S+)\((\d+),\d+\): error (TS\d+)/gm)].map(
      ([, file, line, code]) => `${file}:${line} ${code}`,
    );
    const marked = wrongTypes
      .split("\n")
      .flatMap((line, index) => (line.includes("// ERROR") ? [`src/wrong-types.ts:${index + 1}`] : []));
    expect(marked).toHaveLength(3);
    // Nothing in tail-room.ts, nor in the package's .d.ts (skipLibCheck is off).
    expect(errors).toEqual([`${marked[0]} TS2322`, `${marked[1]} TS2339`, `${marked[2]} TS2322`]);
  });

  it("type-checks a browser page that uses the client without Node's types or ws", async () => {
    expect(await typeCheck(["-p", "tsconfig.browser.json"])).toEqual({ code: 0, output: "" });
  });

  it("runs a script that signs up, signs in, tails a room and prints the message another client sends", async () => {
    const compiled = await timed("compile", () => typeCheck(["-p", "tsconfig.build.json"]));
    expect(compiled).toEqual({ code: 0, output: "" });
    const { owner, room } = await roomWith(t, false, "Package room");
    const output = { text: "" };
    const started = performance.now();
    const script = spawn(
      process.execPath,
      [join(projectDir, "out", "tail-room.js"), t.url, uniqueEmail("tail"), GOOD_PASSWORD, room.id],
      { cwd: projectDir, env: plainEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    script.stdout.on("data", (chunk: Buffer) => {
      output.text += chunk.toString();
    });
    script.stderr.on("data", (chunk: Buffer) => {
      output.text += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => script.once("exit", resolve));
    try {
      expect(await lineMatching(script, /^subscribed as /, output)).toBe("subscribed as Tail");
      await send(owner.api, room.id, "hello from outside the workspace");
      expect(await lineMatching(script, /^message from /, output)).toBe(
        "message from Owner: hello from outside the workspace",
      );
      expect(await exited).toBe(0);
      timings.script = Math.round(performance.now() - started);
    } finally {
      script.kill();
    }
  });
});
