import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderApiDocs } from "../src/api-docs.ts";
import { appRouter } from "../src/root.ts";

const target = fileURLToPath(new URL("../../../docs/api.md", import.meta.url));
writeFileSync(target, renderApiDocs(appRouter));
process.stdout.write(`wrote ${target}\n`);
