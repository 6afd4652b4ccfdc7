import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderApiDocs } from "./api-docs.ts";
import { appRouter } from "./root.ts";
import { procedureEntries } from "./trpc-internals.ts";

describe("docs/api.md", () => {
  it("matches the routers (run `pnpm docs:generate` after changing a procedure)", () => {
    const committed = readFileSync(new URL("../../../docs/api.md", import.meta.url), "utf8");
    expect(committed).toBe(renderApiDocs(appRouter));
  });

  it("documents every procedure with its access and a summary", () => {
    const docs = renderApiDocs(appRouter);
    for (const { path } of procedureEntries(appRouter)) expect(docs).toContain(`\`${path}\``);
    expect(docs).not.toMatch(/\| anyone \| {2}\|/);
  });
});
