import { defineConfig } from "vitest/config";

// The domain's and the infrastructure's unit tests; what needs a real server lives in apps/server/test.
export default defineConfig({ test: { include: ["src/**/*.test.ts"] } });
