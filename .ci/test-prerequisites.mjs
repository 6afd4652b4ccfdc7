// Run by `pnpm test` before the suites: the system programs they need, installed with apt when
// missing (as root, or with sudo that asks no password), else one line naming what is missing and
// how to get it, within seconds rather than minutes into the run.
//
//   PostgreSQL   initdb, pg_ctl, postgres (the server tests start throwaway clusters) and psql;
//                with DATABASE_URL set, psql alone
//   curl, jq,    docs/rest.md's walkthrough, which a test runs as written (/usr/bin: Debian's)
//   python3      and its Python script
//   redis-server the multi-instance tests start throwaway ones
//   chromium     /usr/bin/chromium, Debian's (never a browser a test tool downloads), with a font
//                (without one, the screenshots the browser tests save show no text)
//
// PARLEY_TEST_INSTALL=never: check only, install nothing.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";

// Read here, before turbo: this script is no turbo task.
const env = process.env;
const onPath = (name) => (env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, name)));
const postgresBinDirs = () => {
  try {
    return readdirSync("/usr/lib/postgresql").map((version) => join("/usr/lib/postgresql", version, "bin"));
  } catch {
    return [];
  }
};
const postgresHas = (name) => onPath(name) || postgresBinDirs().some((dir) => existsSync(join(dir, name)));

const needServer = !env.DATABASE_URL;
const requirements = [
  needServer
    ? {
        what: "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql)",
        found: () => ["initdb", "pg_ctl", "postgres", "psql"].every(postgresHas),
        packages: ["postgresql"],
      }
    : { what: "psql", found: () => postgresHas("psql"), packages: ["postgresql-client"] },
  {
    what: "curl, jq and python3 (the REST walkthrough)",
    found: () => ["curl", "jq", "python3"].every((name) => existsSync(`/usr/bin/${name}`)),
    packages: ["curl", "jq", "python3"],
  },
  { what: "redis-server", found: () => onPath("redis-server"), packages: ["redis-server"] },
  { what: "chromium", found: () => existsSync("/usr/bin/chromium"), packages: ["chromium"] },
  {
    what: "a font (for the browser tests' screenshots)",
    found: () => existsSync("/usr/share/fonts/truetype/dejavu"),
    packages: ["fonts-dejavu-core"],
  },
];

const isRoot = process.getuid?.() === 0;
const run = (command, args, options = {}) => spawnSync(command, args, { stdio: "inherit", ...options });
const asRoot = (args, options) =>
  isRoot ? run(args[0], args.slice(1), options) : run("sudo", ["-n", ...args], options);

function fail(line) {
  process.stderr.write(`pnpm test: ${line}\n`);
  process.exit(1);
}

/** Why apt cannot be used here, or null when it can. */
function whyNoApt() {
  if (env.PARLEY_TEST_INSTALL === "never") return "PARLEY_TEST_INSTALL=never";
  if (!onPath("apt-get")) return "no apt-get on this machine";
  if (isRoot) return null;
  if (onPath("sudo") && spawnSync("sudo", ["-n", "true"], { stdio: "ignore" }).status === 0) return null;
  return "not root, and no sudo without a password";
}

function hasPackageLists() {
  try {
    return readdirSync("/var/lib/apt/lists").some(
      (name) => name.endsWith("_Packages") || name.endsWith("_Packages.lz4"),
    );
  } catch {
    return false;
  }
}

/**
 * apt-get install with a policy-rc.d that denies service starts, so that Debian's own PostgreSQL
 * (port 5432) and redis (6379) do not start: the tests start their own on free ports.
 */
function aptInstall(packages) {
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
  const policy = "/usr/sbin/policy-rc.d";
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) asRoot(["sh", "-c", `printf '#!/bin/sh\\nexit 101\\n' > ${policy} && chmod 755 ${policy}`]);
  const install = () =>
    asRoot(["apt-get", "install", "-y", "--no-install-recommends", ...packages], { env: aptEnv }).status ===
    0;
  try {
    // With package lists already here (most machines), no apt-get update: seconds instead of a minute.
    if (hasPackageLists() && install()) return true;
    if (asRoot(["apt-get", "update"], { env: aptEnv }).status !== 0) return false;
    return install();
  } finally {
    if (ownPolicy) asRoot(["rm", "-f", policy]);
  }
}

const missing = requirements.filter((requirement) => !requirement.found());
if (missing.length > 0) {
  const packages = missing.flatMap((requirement) => requirement.packages);
  const names = missing.map((requirement) => requirement.what).join(", ");
  const why = whyNoApt();
  if (why) {
    fail(
      `missing ${names}; cannot install them (${why}). As root: apt-get install -y --no-install-recommends ${packages.join(" ")}`,
    );
  }
  process.stderr.write(`pnpm test: missing ${names}: apt-get install ${packages.join(" ")}\n`);
  if (!aptInstall(packages)) fail(`apt-get install ${packages.join(" ")} failed (see above)`);
  const still = missing.filter((requirement) => !requirement.found());
  if (still.length > 0) fail(`still missing after apt-get install: ${still.map((r) => r.what).join(", ")}`);
}

// initdb refuses to run as root; the tests run it as the postgres user, which the package creates.
if (needServer && isRoot) {
  try {
    execFileSync("id", ["-u", "postgres"], { stdio: "ignore" });
  } catch {
    fail(
      "running as root, but there is no postgres OS user to run initdb as: apt-get install --reinstall postgresql-common",
    );
  }
}
process.stderr.write(
  `pnpm test: ${requirements.map((requirement) => requirement.what.split(" (")[0]).join(", ")}: found\n`,
);
