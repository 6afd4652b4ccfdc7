import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { defineConfig, type Plugin } from "vite";

// apps/server serves dist/ from the same origin as /trpc (`pnpm start`), or runs this config in
// middleware mode inside itself (`pnpm dev`), where the proxy below is not used. The proxy serves
// Vite on a port of its own (`pnpm dev:web`), keeping the Host header so that the server's
// same-origin check sees the page's own origin.
const api = process.env.PARLEY_URL ?? "http://127.0.0.1:3000";

const COMPRESSIBLE = /\.(js|css|html|svg|json|txt)$/;
/** Below this a compressed copy saves less than the headers it costs. */
const MIN_BYTES = 1024;

/**
 * Writes `.br` and `.gz` beside each text file of the build, at the highest levels: paid once
 * here, never per request. apps/server/src/web-app.ts serves them by Accept-Encoding.
 */
function precompress(): Plugin {
  const brotli = promisify(brotliCompress);
  const gzipped = promisify(gzip);
  return {
    name: "parley-precompress",
    apply: "build",
    async writeBundle(options, bundle) {
      const outDir = options.dir ?? "dist";
      const names = Object.keys(bundle).filter((name) => COMPRESSIBLE.test(name));
      await Promise.all(
        names.map(async (name) => {
          const path = join(outDir, name);
          const raw = await readFile(path);
          if (raw.length < MIN_BYTES) return;
          const [br, gz] = await Promise.all([
            brotli(raw, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
                [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
                [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
              },
            }),
            gzipped(raw, { level: constants.Z_BEST_COMPRESSION }),
          ]);
          if (br.length < raw.length) await writeFile(`${path}.br`, br);
          if (gz.length < raw.length) await writeFile(`${path}.gz`, gz);
        }),
      );
    },
  };
}

export default defineConfig({
  plugins: [precompress()],
  server: {
    proxy: {
      "/trpc": { target: api, ws: true },
      "/api": { target: api },
    },
  },
  build: {
    outDir: "dist",
    // No source maps in the build: the server would publish them, the whole source with its
    // comments, to anyone. Debugging a production bundle: `vite build --sourcemap` locally.
    sourcemap: false,
    target: "es2022",
    rolldownOptions: {
      onwarn(warning, warn) {
        // TanStack Query marks its modules "use client" for React Server Components; a
        // client-only bundle has nothing to preserve it for.
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
    },
  },
});
