import type { IncomingMessage, Server } from "node:http";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { RequestHandler } from "express";

/**
 * `pnpm dev`: the web app from Vite's dev server in middleware mode, inside this server, on its
 * port. One origin, as in production: the session cookie, the origin checks, the WebSocket on
 * /trpc, the links in emails and /dev/mailbox need no proxy and no second port. Vite's HMR socket
 * shares the HTTP server (its upgrades carry the `vite-hmr` protocol; ws-server leaves them alone).
 * The server itself restarts under `tsx watch`; the page then reconnects and reloads by itself.
 *
 * Vite is apps/web's dependency, loaded from there at run time: the server's bundle never holds it
 * and `pnpm start` never loads it.
 */
export interface WebDevServer {
  handle: RequestHandler;
  /** Whether an upgrade request is Vite's (its HMR socket), not one for /trpc. */
  ownsUpgrade(req: IncomingMessage): boolean;
  close(): Promise<void>;
}

/** The part of Vite's API used here (apps/server does not depend on vite, so has no types of it). */
interface ViteModule {
  createServer(config: {
    root: string;
    configFile: string;
    appType: "spa";
    clearScreen: boolean;
    server: { middlewareMode: true; ws: { server: Server } };
  }): Promise<{ middlewares: RequestHandler; close(): Promise<void> }>;
}

const webDir = fileURLToPath(new URL("../../web/", import.meta.url));

export async function startWebDevServer(server: Server): Promise<WebDevServer> {
  const vitePath = createRequire(`${webDir}package.json`).resolve("vite");
  const vite = (await import(pathToFileURL(vitePath).href)) as ViteModule;
  const dev = await vite.createServer({
    root: webDir,
    configFile: `${webDir}vite.config.ts`,
    appType: "spa",
    clearScreen: false,
    server: { middlewareMode: true, ws: { server } },
  });
  return {
    handle: dev.middlewares,
    ownsUpgrade: (req) => /^vite-(hmr|ping)$/.test(String(req.headers["sec-websocket-protocol"])),
    close: () => dev.close(),
  };
}
