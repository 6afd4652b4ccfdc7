import { fileURLToPath } from "node:url";

// What the build leaves beside the server's code. src/ and dist/ are siblings, so these hold from
// either (tsx on src/*.ts, or the bundle dist/*.mjs).

/** A PGlite data directory through initdb and the migrations (build.mjs): a new DATA_DIR starts as a copy. */
export const builtPgliteTemplate = fileURLToPath(new URL("../dist/pglite-template", import.meta.url));

/** The web app main.ts serves when WEB_DIST_DIR is unset (start.mjs builds it when missing or stale). */
export const builtWebApp = fileURLToPath(new URL("../../web/dist", import.meta.url));
