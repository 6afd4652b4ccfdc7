import type { ApiDeps } from "@parley/api";
import type { ParleyClient } from "@parley/client";
import type { EmailWorker } from "@parley/core";

/**
 * What the fixtures use of a server started in-process (apps/server/test/support/test-server.ts).
 * Declared here rather than imported: apps/server's tests depend on this package, so a dependency
 * back on the app would be a cycle.
 */
export interface ServerUnderTest {
  url: string;
  /** A client sending this bearer token (or none). */
  client(token?: string): ParleyClient;
  server: {
    deps: Pick<ApiDeps, "db" | "bus" | "sessions">;
    /** The in-process email worker, or null when the server runs none. */
    email: { worker: Pick<EmailWorker, "drain"> } | null;
  };
}
