import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";

// The README's browser example is examples/frontend-client.ts, which `pnpm typecheck` compiles:
// this keeps the two identical, so the README never shows code that does not build.
describe("the README's frontend example", () => {
  it("is examples/frontend-client.ts, word for word", async () => {
    const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
    const example = await readFile(new URL("../examples/frontend-client.ts", import.meta.url), "utf8");
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });
});
