import { existsSync, readdirSync } from "node:fs";
import { extname, join, sep } from "node:path";
import express, { type RequestHandler, type Router } from "express";
import type { Logger } from "pino";

/** Paths the API owns: never answered with the web app, so a wrong API URL stays a JSON 404. */
const API_PATH = /^\/(trpc|api)(\/|$)/;

/** The precompressed twins the web build writes (apps/web/vite.config.ts), best first. */
const ENCODINGS = [
  { encoding: "br", suffix: ".br" },
  { encoding: "gzip", suffix: ".gz" },
] as const;
type Encoding = (typeof ENCODINGS)[number]["encoding"];

/** Hashed file names: a new build makes new names, so a copy may be kept for good. */
const ASSET_CACHE = { immutable: true, maxAge: "1y" } as const;

/**
 * The URL paths ("/assets/index-x.js") that have precompressed twins, and which encodings.
 * Listed once, at start: the build writes the twins beside the originals and never changes
 * them afterwards (a rebuild makes new hashed names, which are then served uncompressed until
 * the next start). No per-request file system lookups.
 */
function listPrecompressed(distDir: string): Map<string, Encoding[]> {
  const found = new Map<string, Encoding[]>();
  const files = new Set(readdirSync(distDir, { recursive: true, encoding: "utf8" }));
  for (const file of files) {
    const urlPath = `/${file.split(sep).join("/")}`;
    const encodings = ENCODINGS.filter(({ suffix }) => files.has(file + suffix)).map((e) => e.encoding);
    if (encodings.length > 0) found.set(urlPath, encodings);
  }
  return found;
}

/**
 * The best of `available` that an Accept-Encoding header takes, by its q-values; ties go to our
 * order (brotli first). Not req.acceptsEncodings: it breaks ties by the header's order, and
 * browsers send "gzip, deflate, br", so they would get the larger gzip.
 */
function pickEncoding(header: string | undefined, available: readonly Encoding[]): Encoding | null {
  if (!header) return null;
  const quality = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name = "", ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const q = params.find((param) => param.startsWith("q="));
    const value = q === undefined ? 1 : Number(q.slice(2));
    quality.set(name, Number.isFinite(value) ? value : 0);
  }
  let best: Encoding | null = null;
  let bestQuality = 0;
  for (const encoding of available) {
    const value = quality.get(encoding) ?? quality.get("*") ?? 0;
    if (value > bestQuality) {
      best = encoding;
      bestQuality = value;
    }
  }
  return best;
}

/**
 * Serves a file's brotli or gzip twin to a client that takes it: compressed once at build time
 * at the highest level, rather than by a compression middleware on every request (CPU per
 * request, and lower levels to keep that cheap). The plain file is left to express.static.
 */
function precompressedFiles(distDir: string): RequestHandler {
  const twins = listPrecompressed(distDir);
  return (req, res, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const encodings = twins.get(req.path);
    if (!encodings) return next();
    // Caches must keep the plain and the compressed answers apart, whichever this one is.
    res.vary("Accept-Encoding");
    const encoding = pickEncoding(req.get("Accept-Encoding"), encodings);
    const twin = ENCODINGS.find((e) => e.encoding === encoding);
    if (!twin) return next();
    res.type(extname(req.path));
    res.setHeader("Content-Encoding", twin.encoding);
    const options = req.path.startsWith("/assets/") ? ASSET_CACHE : {};
    res.sendFile(join(distDir, req.path + twin.suffix), options, (error) => {
      // Gone since the listing (a rebuild): the plain file, or the 404 for it, instead.
      if (error && !res.headersSent) {
        res.removeHeader("Content-Encoding");
        res.removeHeader("Content-Type");
        next();
      }
    });
  };
}

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
  // The build makes no source maps; one left in dist by a local `vite build --sourcemap` would
  // still publish the whole source: never served.
  router.use("/assets", (req, res, next) => {
    if (req.path.endsWith(".map")) res.sendStatus(404);
    else next();
  });
  router.use(precompressedFiles(distDir));
  router.use("/assets", express.static(join(distDir, "assets"), { ...ASSET_CACHE, fallthrough: false }));
  router.use(express.static(distDir, { index: false }));
  router.use((req, res, next) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || API_PATH.test(req.path) || !req.accepts("html")) {
      return next();
    }
    res.sendFile(indexHtml, { headers: { "Cache-Control": "no-cache" } });
  });
  return router;
}
