import { execFile, execFileSync } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster of its own: own data directory, own port, own socket directory. */
export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/postgres (trust authentication, no password). */
  url: string;
  port: number;
  dataDir: string;
  /** `pg_ctl stop -m fast`; the data is kept. Does nothing when already stopped. */
  stop(): Promise<void>;
  /**
   * A crash: SIGKILL to the postmaster and every process it started, at once, as an OOM kill or a
   * lost machine would leave it. `start()` then runs crash recovery from the WAL.
   */
  kill(): Promise<void>;
  /** Starts it again on the same port. Does nothing when already running. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes every file it had. Idempotent. */
  destroy(): Promise<void>;
}

export interface PgClusterOptions {
  log?: (line: string) => void;
  /**
   * Keeps synchronous_commit on. Off by default, for speed; but then a commit PostgreSQL has
   * acknowledged can be lost when it crashes, which crash tests must not count against us.
   */
  synchronousCommit?: boolean;
}

const INSTALL_HINT =
  "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH nor in /usr/lib/postgresql/*/bin. " +
  "Install them, e.g. `apt-get install postgresql` on Debian/Ubuntu, or set DATABASE_URL to an existing server.";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Debian's versioned bin directories, newest major version first. */
function debianBinDirs(): string[] {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    .map((name) => join(root, name, "bin"));
}

const serverBinaries = ["initdb", "pg_ctl", "postgres"] as const;

/** The first directory (PATH first, then /usr/lib/postgresql/N/bin, newest N) holding initdb, pg_ctl and postgres. */
export function findPostgresBinDir(): string {
  const pathDirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of [...pathDirs, ...debianBinDirs()]) {
    if (serverBinaries.every((name) => isExecutable(join(dir, name)))) return dir;
  }
  throw new Error(INSTALL_HINT);
}

/** psql: beside the server binaries when it is there, else on PATH (e.g. Debian's /usr/bin/psql wrapper). */
export function findPsql(): string {
  const candidates: string[] = [];
  try {
    const binDir = findPostgresBinDir();
    candidates.push(join(binDir, "psql"));
    // /usr/local/bin/initdb may be a symlink into /usr/lib/postgresql/N/bin, which has psql too.
    candidates.push(join(dirname(realpathSync(join(binDir, "initdb"))), "psql"));
  } catch {
    // No server binaries: a psql on PATH may still do, e.g. against an external DATABASE_URL.
  }
  for (const dir of (process.env.PATH ?? "").split(delimiter).filter(Boolean))
    candidates.push(join(dir, "psql"));
  for (const dir of debianBinDirs()) candidates.push(join(dir, "psql"));
  const found = candidates.find(isExecutable);
  if (!found) {
    throw new Error(
      "psql was not found on PATH nor in /usr/lib/postgresql/*/bin: `apt-get install postgresql-client`.",
    );
  }
  return found;
}

/** The pids whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(join("/proc", entry, "stat"), "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // The process ended while the directory was read.
    }
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** Alive and not a zombie waiting to be reaped (a killed backend's parent is gone too). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(join("/proc", String(pid), "stat"), "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("could not read the port of a probe socket"));
      });
    });
  });
}

interface RunAs {
  uid: number;
  gid: number;
}

/**
 * initdb and pg_ctl refuse to run as root. As root, run them as the `postgres` OS user (which
 * Debian's postgresql package creates) by giving execFile its uid and gid: libuv then calls
 * setgroups/setgid/setuid in the child, like `runuser -u postgres` would.
 */
function postgresUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    if (Number.isInteger(uid) && Number.isInteger(gid) && uid !== 0) return { uid, gid };
  } catch {
    // Falls through to the error below.
  }
  throw new Error(
    "Running as root, but initdb and pg_ctl refuse to run as root and there is no `postgres` OS user to run them as. " +
      "`apt-get install postgresql` creates it (or run the tests as a non-root user).",
  );
}

function describeFailure(error: unknown): string {
  const e = error as { message?: string; stdout?: string; stderr?: string };
  const message = e.message ?? String(error);
  // execFile's message already ends with stderr.
  const extra = [e.stderr, e.stdout].filter(
    (part): part is string =>
      typeof part === "string" && part.trim() !== "" && !message.includes(part.trim()),
  );
  return [message.trim(), ...extra.map((part) => part.trim())].join("\n");
}

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const log = opts.log ?? (() => {});
  const binDir = findPostgresBinDir();
  const runAs = postgresUser();
  const baseDir = await mkdtemp(join(tmpdir(), "parley-pg-"));
  const dataDir = join(baseDir, "data");
  const socketDir = baseDir;
  const logFile = join(baseDir, "postgres.log");

  let port = 0;
  let running = false;
  let destroyed: Promise<void> | undefined;

  const pgBin = async (name: "initdb" | "pg_ctl", args: string[], timeout = 120_000) => {
    try {
      return await run(join(binDir, name), args, {
        cwd: baseDir,
        timeout,
        encoding: "utf8",
        env: { ...process.env, LC_ALL: "C", PGTZ: "UTC" },
        ...(runAs ?? {}),
      });
    } catch (error) {
      let serverLog = "";
      if (name === "pg_ctl") {
        serverLog = await readFile(logFile, "utf8").catch(() => "");
        serverLog = serverLog.split("\n").slice(-30).join("\n");
      }
      const details = describeFailure(error);
      const hint =
        runAs && /permission denied/i.test(details)
          ? `\n(${name} runs as the postgres OS user because this process is root: ${baseDir} and every directory above it must be reachable by that user; check TMPDIR.)`
          : "";
      throw new Error(
        `${name} ${args.join(" ")} failed:\n${details}${hint}${serverLog ? `\n--- ${logFile} (tail) ---\n${serverLog}` : ""}`,
      );
    }
  };

  const pgCtlStart = async () => {
    const serverOptions = [
      `-p ${port}`,
      // pg_ctl hands these to a shell: quote the path.
      `-k '${socketDir}'`,
      "-c listen_addresses=127.0.0.1",
      "-c fsync=off",
      ...(opts.synchronousCommit ? [] : ["-c synchronous_commit=off"]),
      "-c full_page_writes=off",
      "-c max_connections=200",
    ].join(" ");
    await pgBin("pg_ctl", ["-w", "-t", "60", "-D", dataDir, "-o", serverOptions, "-l", logFile, "start"]);
    running = true;
  };

  // Stops the server and removes its files synchronously if the process exits without destroy()
  // (a test that forgot it, an uncaught error). Without it the postmaster would outlive the test run.
  const onExit = () => {
    if (existsSync(join(dataDir, "postmaster.pid"))) {
      try {
        execFileSync(join(binDir, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], {
          stdio: "ignore",
          cwd: baseDir,
          timeout: 30_000,
          ...(runAs ?? {}),
        });
      } catch {
        // Best effort at exit.
      }
    }
    try {
      rmSync(baseDir, { recursive: true, force: true });
    } catch {
      // Best effort at exit.
    }
  };
  process.once("exit", onExit);

  const stop = async () => {
    if (destroyed) throw new Error("this PostgreSQL cluster was destroyed");
    if (!running) return;
    await pgBin("pg_ctl", ["-w", "-t", "60", "-D", dataDir, "-m", "fast", "stop"]);
    running = false;
    log(`PostgreSQL on port ${port} stopped`);
  };

  const start = async () => {
    if (destroyed) throw new Error("this PostgreSQL cluster was destroyed");
    if (running) return;
    await pgCtlStart();
    log(`PostgreSQL on port ${port} started again`);
  };

  const kill = async () => {
    if (destroyed) throw new Error("this PostgreSQL cluster was destroyed");
    if (!running) return;
    const postmaster = Number.parseInt(
      (await readFile(join(dataDir, "postmaster.pid"), "utf8")).split("\n")[0] ?? "",
      10,
    );
    if (!Number.isInteger(postmaster)) throw new Error("postmaster.pid holds no pid");
    const family = [postmaster, ...childrenOf(postmaster)];
    for (const pid of family) signal(pid, "SIGKILL");
    // start() must not find a backend of the old postmaster still holding its shared memory.
    while (family.some(isRunning)) await new Promise((resolve) => setTimeout(resolve, 20));
    // The killed postmaster may linger as a zombie nobody reaps (pg_ctl's shell is gone), and a
    // new postmaster refuses to start while the pid in its lock files exists. After a real crash
    // that pid is gone: remove the stale lock files, as the restart after a crash would find them.
    await rm(join(dataDir, "postmaster.pid"), { force: true });
    await rm(join(socketDir, `.s.PGSQL.${port}.lock`), { force: true });
    running = false;
    log(`PostgreSQL on port ${port} killed (${family.length} processes)`);
  };

  const destroy = () => {
    destroyed ??= (async () => {
      process.removeListener("exit", onExit);
      // Also when startup failed halfway: a postmaster may be up even though pg_ctl reported failure.
      if (existsSync(join(dataDir, "postmaster.pid"))) {
        await pgBin("pg_ctl", ["-w", "-t", "60", "-D", dataDir, "-m", "immediate", "stop"]).catch((error) =>
          log(`pg_ctl stop while destroying failed (ignored): ${describeFailure(error)}`),
        );
      }
      running = false;
      await rm(baseDir, { recursive: true, force: true });
      log(`PostgreSQL cluster ${baseDir} destroyed`);
    })();
    return destroyed;
  };

  try {
    if (runAs) await chown(baseDir, runAs.uid, runAs.gid);
    log(`initdb ${dataDir} (${binDir}${runAs ? ", as the postgres user" : ""})`);
    await pgBin("initdb", [
      "-D",
      dataDir,
      "-A",
      "trust",
      "-U",
      "postgres",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    // The probed port can be taken by someone else before the postmaster binds it: try a few.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await pgCtlStart();
        break;
      } catch (error) {
        const inUse = /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(
          String(error),
        );
        if (!inUse || attempt >= 3) throw error;
        log(`port ${port} was taken, trying another`);
      }
    }
    log(`PostgreSQL started on 127.0.0.1:${port} (data ${dataDir})`);
  } catch (error) {
    await destroy();
    throw error;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop,
    kill,
    start,
    async restart() {
      await stop();
      await start();
    },
    destroy,
  };
}
