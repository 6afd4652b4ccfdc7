import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The realtime fast path reaches past two libraries' public APIs. Each reach lives in one file,
// so a release that changes what it relies on breaks one file (and the contract tests), not
// code spread over the repository.

const root = fileURLToPath(new URL("../../..", import.meta.url));
const TRPC_INTERNALS = "packages/api/src/trpc-internals.ts";
const WS_INTERNALS = "apps/server/src/realtime/ws-internals.ts";

/** The source files (unit tests beside them included) of every app and package. */
function sourceFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "dist") walk(path);
      } else if (/\.(ts|tsx|mts)$/.test(entry.name)) {
        files.push(relative(root, path));
      }
    }
  };
  for (const group of ["apps", "packages"]) {
    for (const workspace of readdirSync(join(root, group), { withFileTypes: true })) {
      const src = join(root, group, workspace.name, "src");
      if (workspace.isDirectory() && readdirSync(join(root, group, workspace.name)).includes("src"))
        walk(src);
    }
  }
  return files;
}

/** The private fields of ws's WebSocket, sender and receiver, read from the installed ws itself. */
function wsPrivateFields(): string[] {
  const lib = join(dirname(createRequire(join(root, "apps/server/package.json")).resolve("ws")), "lib");
  const names = new Set<string>();
  for (const file of ["websocket.js", "sender.js", "receiver.js", "websocket-server.js"]) {
    for (const match of readFileSync(join(lib, file), "utf8").matchAll(/this\._([A-Za-z]\w*)/g)) {
      if (match[1]) names.add(match[1]);
    }
  }
  return [...names];
}

function filesMatching(pattern: RegExp): string[] {
  return sourceFiles().filter((file) => pattern.test(readFileSync(join(root, file), "utf8")));
}

describe("the realtime path's reach into library internals", () => {
  it("only trpc-internals.ts reads tRPC's private _def", () => {
    expect(filesMatching(/\b_def\b/)).toEqual([TRPC_INTERNALS]);
  });

  it("only ws-internals.ts touches ws's private fields", () => {
    const fields = wsPrivateFields();
    // The ones the push path writes through; if ws renamed them the list would not hold them.
    expect(fields).toEqual(expect.arrayContaining(["socket", "sender", "extensions", "queue"]));
    // A property read (`._socket`, `["_socket"]`), not a parameter named `_req`.
    const access = new RegExp(`(\\.|\\[["'\`])_(${fields.join("|")})\\b`);
    expect(filesMatching(access)).toEqual([WS_INTERNALS]);
  });
});
