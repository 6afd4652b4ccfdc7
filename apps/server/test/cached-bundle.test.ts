import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleWrapper, runCachedBundle, writeCompiledCache } from "../cached-bundle.mjs";

const dir = mkdtempSync(join(tmpdir(), "parley-cached-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Probe {
  runs: number;
  file?: string;
  answer?: number;
}
const probe = globalThis as typeof globalThis & { cachedBundleProbe?: Probe };

/** A bundle as build.mjs writes one: the build id first, CommonJS, `started` settled once it serves. */
function writeBundle(file: string, id: string, answer: number): void {
  const { banner, footer } = bundleWrapper(id, "const p = globalThis.cachedBundleProbe;");
  writeFileSync(
    file,
    `${banner}\np.runs++; p.file = __filename; p.answer = ${answer};\nexports.started = Promise.resolve();\n${footer}\n`,
  );
}

const caches = () => readdirSync(dir).filter((name) => name.endsWith(".v8cache"));
/** The started cache is written once the bundle's `started` settles and its callbacks ran. */
const writesSettled = () => new Promise((resolve) => setImmediate(resolve));

describe("the server bundle through V8's code cache (cached-bundle.mjs)", () => {
  it("runs the bundle with CommonJS's arguments, then reads the build's cache, then the first start's", async () => {
    probe.cachedBundleProbe = { runs: 0 };
    const file = join(dir, "main.cjs");
    writeBundle(file, "build-1", 1);
    expect(runCachedBundle(file)).toBe("none");
    expect(probe.cachedBundleProbe).toEqual({ runs: 1, file, answer: 1 });
    await writesSettled();
    expect(caches()).toEqual(["main.cjs.build-1.started.v8cache"]);
    rmSync(join(dir, "main.cjs.build-1.started.v8cache"));

    writeCompiledCache(file, file);
    expect(runCachedBundle(file)).toBe("compiled");
    await writesSettled();
    expect(runCachedBundle(file)).toBe("started");
    expect(probe.cachedBundleProbe.runs).toBe(3);
  });

  it("never reads a cache of another build, even one of the same length, and rejects a damaged one", async () => {
    probe.cachedBundleProbe = { runs: 0 };
    const file = join(dir, "other.cjs");
    writeBundle(file, "build-a", 1);
    runCachedBundle(file);
    await writesSettled();
    expect(runCachedBundle(file)).toBe("started");

    // V8 checks a cache against the source's length only: build-b's code read with build-a's cache
    // would run build-a's compiled code.
    const lengthOfA = readFileSync(file).length;
    writeBundle(file, "build-b", 2);
    expect(readFileSync(file).length).toBe(lengthOfA);
    expect(runCachedBundle(file)).toBe("none");
    expect(probe.cachedBundleProbe.answer).toBe(2);
    await writesSettled();
    expect(existsSync(join(dir, "other.cjs.build-b.started.v8cache"))).toBe(true);

    // A build this process has not compiled yet: V8 would take a source it has compiled from its own
    // memory, without looking at the cache.
    writeBundle(file, "build-c", 3);
    writeFileSync(join(dir, "other.cjs.build-c.started.v8cache"), "not a V8 code cache");
    expect(runCachedBundle(file)).toBe("none");
    expect(probe.cachedBundleProbe.answer).toBe(3);
    await writesSettled();
    // Written again by this start.
    expect(readFileSync(join(dir, "other.cjs.build-c.started.v8cache"), "utf8")).not.toBe(
      "not a V8 code cache",
    );
    expect(probe.cachedBundleProbe.runs).toBe(4);
  });
});
