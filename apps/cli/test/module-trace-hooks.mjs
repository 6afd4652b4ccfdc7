// Module hooks (they run on Node's loader thread): every resolved import, appended to a file.
import { appendFileSync } from "node:fs";

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  appendFileSync(process.env.PARLEY_MODULE_TRACE ?? "/dev/null", `${resolved.url}\n`);
  return resolved;
}
