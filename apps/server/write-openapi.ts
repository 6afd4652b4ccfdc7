// `pnpm lint:openapi`: writes /api/v1's OpenAPI document (what the server serves at
// /api/v1/openapi.json) to dist/openapi.json, or to the path given, for the linter to read.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { appRouter } from "@parley/api";
import { createRestV1Document } from "./src/rest-v1.ts";

const target = resolve(process.argv[2] ?? fileURLToPath(new URL("./dist/openapi.json", import.meta.url)));
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(await createRestV1Document(appRouter), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
