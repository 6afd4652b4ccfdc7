// Types for the tests (cached-bundle.mjs runs before any TypeScript: start.mjs and build.mjs import it).
export function buildIdLine(id: string): string;
export function writeCompiledCache(file: string, runsAt: string): void;
export function runCachedBundle(file: string): "started" | "compiled" | "none";
