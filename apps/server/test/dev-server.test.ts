import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServerProcess, spawnServer } from "@parley/testing/server-process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

// `pnpm dev` runs src/main.ts --dev (under tsx watch, which restarts it on a change): the web app
// from Vite's dev server inside the server, on the server's own origin.
const dataDir = mkdtempSync(join(tmpdir(), "parley-dev-"));
let server: ServerProcess;
beforeAll(async () => {
  server = await spawnServer({ DATA_DIR: join(dataDir, "data") }, { args: ["--dev"] });
}, 120_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("pnpm dev: the web app from Vite, on the server's origin", () => {
  it("answers / with the app's page wired to Vite's client, and serves its TypeScript modules", async () => {
    const page = await fetch(`${server.url}/rooms`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/@vite/client"></script>');
    expect(html).toContain('<div id="root"></div>');
    const main = await fetch(`${server.url}/src/main.tsx`);
    expect(main.status).toBe(200);
    expect(main.headers.get("content-type")).toMatch(/javascript/);
  });

  it("keeps the API, /readyz and the mailbox its own, and a wrong API path a JSON 404", async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/dev/mailbox`)).status).toBe(200);
    const missing = await fetch(`${server.url}/api/nope`, { headers: { accept: "text/html" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/json/);
  });

  it("lets Vite's HMR socket through on the same port, and still refuses other unknown upgrades", async () => {
    const hmr = new WebSocket(`${server.url.replace("http", "ws")}/`, "vite-hmr");
    const first = await new Promise<string>((resolve, reject) => {
      hmr.once("message", (data) => resolve(String(data)));
      hmr.once("error", reject);
    });
    expect(JSON.parse(first)).toMatchObject({ type: "connected" });
    hmr.close();

    const stray = new WebSocket(`${server.url.replace("http", "ws")}/elsewhere`);
    const refused = await new Promise<number>((resolve) =>
      stray.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(refused).toBe(404);
  });
});
