import { existsSync } from "node:fs";
import { join } from "node:path";
import express, { type Router } from "express";
import type { Logger } from "pino";

/** Paths the API owns: never answered with the web app, so a wrong API URL stays a JSON 404. */
const API_PATH = /^\/(trpc|api)(\/|$)/;

/**
 * The built web app (apps/web/dist), from the same origin as /trpc so the session cookie and
 * the origin checks need nothing extra. Hashed assets are cached for good; index.html is
 * revalidated, and answers every other page path (the app routes in the browser).
 */
export function serveWebApp(distDir: string, log: Logger): Router {
  const router = express.Router();
  const indexHtml = join(distDir, "index.html");
  if (!existsSync(indexHtml)) {
    log.warn({ distDir }, "the web app is not built (run `pnpm build`): only the API is served");
    return router;
  }
  router.use(
    "/assets",
    express.static(join(distDir, "assets"), { immutable: true, maxAge: "1y", fallthrough: false }),
  );
  router.use(express.static(distDir, { index: false }));
  router.use((req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || API_PATH.test(req.path) || !req.accepts("html")) {
      return next();
    }
    res.sendFile(indexHtml, { headers: { "Cache-Control": "no-cache" } });
  });
  return router;
}
