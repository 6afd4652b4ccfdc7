import { defineConfig } from "vite";

// apps/server serves dist/ from the same origin as /trpc (`pnpm start`), or runs this config in
// middleware mode inside itself (`pnpm dev`), where the proxy below is not used. The proxy serves
// Vite on a port of its own (`pnpm dev:web`), keeping the Host header so that the server's
// same-origin check sees the page's own origin.
const api = process.env.PARLEY_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  server: {
    proxy: {
      "/trpc": { target: api, ws: true },
      "/api": { target: api },
    },
  },
  build: {
    outDir: "dist",
    sourcemap: true,
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
