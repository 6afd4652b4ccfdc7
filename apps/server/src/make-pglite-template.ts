import { createPgliteTemplate } from "@parley/db";

// `node dist/make-pglite-template.mjs <dir>`: run by build.mjs to make dist/pglite-template, the
// data directory a new DATA_DIR starts as a copy of (see packages/db/src/pglite-template.ts).
const dir = process.argv[2];
if (!dir) throw new Error("usage: make-pglite-template <dir>");
await createPgliteTemplate(dir);
