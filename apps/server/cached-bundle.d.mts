// Types for the tests (cached-bundle.mjs runs before any TypeScript: start.mjs and build.mjs import it).
export function bundleWrapper(id: string, prelude: string): { banner: string; footer: string };
export function writeCompiledCache(file: string, runsAt: string): void;
export function runCachedBundle(file: string): "started" | "compiled" | "none";
