import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultRateLimits } from "@parley/core";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, configWith, loadConfig } from "../src/config.ts";
import { readableLogs } from "../src/logger.ts";
import { defaultLimits } from "../src/server-limits.ts";

const serverDir = fileURLToPath(new URL("..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "parley-config-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

/** Runs `node start.mjs <entry>` (what `pnpm start`, `pnpm worker`, `pnpm admin:create` run) to its end. */
function runEntry(entry: string, env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ["start.mjs", entry, ...args], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? "", DATA_DIR: join(dataDir, "data"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => resolve({ code, stdout, stderr })),
  );
}

/** What the entry itself wrote to stderr: the build's own progress lines ("[build] …") left out. */
const entryLines = (stderr: string) =>
  stderr
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("[build]") && !line.startsWith("vite "));

describe("configuration: an empty variable counts as unset", () => {
  it("takes the default for an empty PORT, DATA_DIR, NODE_ENV and LOG_LEVEL, and PGlite for an empty DATABASE_URL", () => {
    const config = loadConfig({
      PORT: "",
      DATA_DIR: "",
      NODE_ENV: "",
      LOG_LEVEL: " ",
      DATABASE_URL: "",
      REDIS_URL: "",
      SMTP_URL: "",
      PUBLIC_ORIGIN: "",
      SEND_RATE_LIMIT: "",
    });
    expect(config).toMatchObject({
      port: 3000,
      dataDir: "./.data",
      production: false,
      logLevel: "info",
      databaseUrl: undefined,
      redisUrl: undefined,
      mail: { smtpUrl: undefined },
      publicOrigin: "http://localhost:3000",
      rateLimits: defaultRateLimits,
    });
  });
});

describe("configWith: the server's options from a few values", () => {
  it("is the empty environment's config when given nothing, and a config itself when given one", () => {
    expect(configWith({})).toEqual(loadConfig({}));
    const config = loadConfig({ PORT: "4000", SMTP_URL: "smtp://mail.example.com", AUTH_RATE_LIMIT: "3/60" });
    expect(configWith(config)).toEqual(config);
  });

  it("derives the public origin and the mail addresses from the values given, as loadConfig does", () => {
    expect(configWith({ port: 0 }).publicOrigin).toBe("http://localhost:0");
    expect(configWith({ publicOrigin: "https://chat.example.com" }).mail).toEqual(
      loadConfig({ PUBLIC_ORIGIN: "https://chat.example.com" }).mail,
    );
    expect(configWith({ publicOrigin: "https://chat.example.com" }).mail).toEqual({
      smtpUrl: undefined,
      from: "Parley <no-reply@chat.example.com>",
      teamAddress: "team@chat.example.com",
    });
  });

  it("keeps the defaults beside a nested value given", () => {
    const config = configWith({
      rateLimits: { auth: { points: 2, durationSeconds: 60 } },
      limits: { batchSize: 5 },
    });
    expect(config.rateLimits).toEqual({ ...defaultRateLimits, auth: { points: 2, durationSeconds: 60 } });
    expect(config.limits).toEqual({ ...defaultLimits, batchSize: 5 });
    expect(configWith({ emailWorker: { enabled: false } }).emailWorker).toEqual({
      ...loadConfig({}).emailWorker,
      enabled: false,
    });
  });
});

describe("S3_URL: where attachment bytes go", () => {
  it("is unset by default (files under DATA_DIR), and read into endpoint, bucket, region and keys when set", () => {
    expect(loadConfig({}).s3).toBeUndefined();
    expect(
      loadConfig({
        S3_URL: "https://AKIA1:se%2Fcr%2Bet@minio.example.com:9000/parley-files?region=eu-west-1",
      }).s3,
    ).toEqual({
      endpoint: "https://minio.example.com:9000",
      bucket: "parley-files",
      region: "eu-west-1",
      accessKeyId: "AKIA1",
      secretAccessKey: "se/cr+et",
    });
  });
});

describe("log format", () => {
  it("is readable in development on a terminal, JSON in production, in tests and through a pipe", () => {
    const format = (env: Record<string, string>) => loadConfig(env).logFormat;
    expect(readableLogs(format({}), true)).toBe(true);
    expect(readableLogs(format({}), false)).toBe(false);
    expect(readableLogs(format({ NODE_ENV: "production" }), true)).toBe(false);
    expect(readableLogs(format({ NODE_ENV: "test" }), true)).toBe(false);
    expect(readableLogs(format({ NODE_ENV: "production", LOG_FORMAT: "pretty" }), false)).toBe(true);
    expect(readableLogs(format({ LOG_FORMAT: "json" }), true)).toBe(false);
  });
});

describe("configuration: a bad variable is refused in one line naming it, what is wrong and an example", () => {
  it.each([
    [{ PORT: "abc" }, "PORT: must be a number (e.g. PORT=3000)"],
    [{ PORT: "70000" }, "PORT: Too big: expected number to be <=65535 (e.g. PORT=3000)"],
    [{ DATABASE_URL: "localhost" }, "DATABASE_URL: Invalid URL (e.g. DATABASE_URL=postgres://"],
    [
      { DATABASE_URL: "mysql://db/parley" },
      "DATABASE_URL: must be a postgres:// URL (e.g. DATABASE_URL=postgres://",
    ],
    [{ SMTP_URL: "http://mail" }, "SMTP_URL: must be an smtp:// or smtps:// URL (e.g. SMTP_URL=smtp://"],
    [{ S3_URL: "minio:9000/files" }, "S3_URL: must be an http:// or https:// URL (e.g. S3_URL=https://"],
    [
      { S3_URL: "http://minio:9000/files" },
      "S3_URL: must carry the credentials as ACCESS_KEY_ID:SECRET@ before the host (e.g. S3_URL=https://",
    ],
    [{ S3_URL: "http://key:secret@minio:9000" }, "S3_URL: must name one bucket as its path"],
    [
      { NODE_ENV: "prod" },
      'NODE_ENV: Invalid option: expected one of "development"|"production"|"test" (e.g. NODE_ENV=production)',
    ],
    [{ SEND_RATE_LIMIT: "5" }, 'SEND_RATE_LIMIT: must be "points/seconds", e.g. "20/10"'],
    [{ METRICS_TOKEN: "short" }, "METRICS_TOKEN: must be at least 16 characters (e.g. METRICS_TOKEN="],
    [
      { LOG_FORMAT: "text" },
      'LOG_FORMAT: Invalid option: expected one of "pretty"|"json" (e.g. LOG_FORMAT=json)',
    ],
  ])("%o", (env, expected) => {
    const message = refusal(env);
    expect(message).toContain(`Invalid configuration: ${expected}`);
    expect(message).not.toContain("\n");
  });

  it("does not echo a refused METRICS_TOKEN, a secret", () => {
    expect(refusal({ METRICS_TOKEN: "s3cr3t" })).not.toContain("s3cr3t");
  });

  it("does not echo the refused value, which may hold a password", () => {
    expect(refusal({ SMTP_URL: "http://user:hunter2@mail" })).not.toContain("hunter2");
  });

  it("does not echo a refused S3_URL, whose credentials are a secret", () => {
    expect(refusal({ S3_URL: "http://key:hunter2@minio:9000/Bad_Bucket" })).not.toContain("hunter2");
  });

  it("names every bad variable, once each, on the same line", () => {
    const message = refusal({ PORT: "x", DATABASE_URL: "nope", EMAIL_WORKER: "yes" });
    expect(message.match(/DATABASE_URL/g)).toHaveLength(2); // its name, and its example
    expect(message).toContain("PORT: must be a number");
    expect(message).toContain("EMAIL_WORKER: Invalid option");
    expect(message).not.toContain("\n");
  });
});

describe("the entry points stop on a bad variable with that one line and no stack trace", () => {
  it.each([
    ["main", []],
    ["worker-main", []],
    ["admin-create", ["--email", "ada@example.com"]],
  ])("%s", async (entry, args) => {
    const { code, stdout, stderr } = await runEntry(entry, { PORT: "abc" }, args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(entryLines(stderr)).toEqual(["Invalid configuration: PORT: must be a number (e.g. PORT=3000)"]);
  });

  it("main stops in one line that says what to check, with no stack trace, when the database cannot be reached", async () => {
    // Port 1 on the loopback: nothing listens there, so the connection is refused at once.
    const { code, stdout } = await runEntry(
      "main",
      { DATABASE_URL: "postgres://parley@127.0.0.1:1/parley" },
      ["--migrate-only"],
    );
    expect(code).toBe(1);
    const lines = stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("ECONNREFUSED");
    expect(lines[0]).toContain(
      "is the database at DATABASE_URL (or Redis at REDIS_URL) running and reachable?",
    );
    expect(lines[0]).not.toContain("stack");
  });

  it("main starts with DATABASE_URL= (empty) on PGlite, as if it were unset", async () => {
    const { code, stdout } = await runEntry("main", { DATABASE_URL: "", PORT: "", LOG_LEVEL: "info" }, [
      "--migrate-only",
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('"msg":"migrations applied"');
  });
});
