/**
 * The security- and delivery-critical modules under mutation testing, each with the test files
 * that are meant to pin its behaviour. Only tests that run the module in the test process count:
 * a mutant is switched on in Vitest's worker, not in a server spawned as a child process.
 */
export const mutationModules = {
  "origin-policy": {
    mutate: "apps/server/src/origin-policy.ts",
    tests: ["apps/server/test/origin.test.ts", "apps/server/test/request-logs.test.ts"],
  },
  "rate-limits": {
    mutate: "packages/core/src/infra/rate-limits.ts",
    tests: [
      "apps/server/test/chat-messages.test.ts",
      "apps/server/test/forms.test.ts",
      "apps/server/test/rest-forms.test.ts",
      "apps/server/test/account-email-flow.test.ts",
      "apps/server/test/rate-limits.test.ts",
      "apps/server/test/request-logs.test.ts",
    ],
  },
  "email-worker": {
    mutate: "packages/core/src/infra/email/email-worker.ts",
    tests: ["apps/server/test/email-worker.test.ts"],
  },
  "session-module": {
    mutate: "packages/core/src/infra/auth/session-module.ts",
    tests: [
      "apps/server/test/auth.test.ts",
      "apps/server/test/hardening.test.ts",
      "apps/server/test/auth-time-and-cost.test.ts",
      "apps/server/test/password-change-races.test.ts",
    ],
  },
  "push-subscriptions": {
    mutate: "apps/server/src/realtime/push-subscriptions.ts",
    tests: [
      "apps/server/test/push-subscriptions.test.ts",
      "apps/server/test/realtime-contract.test.ts",
      "apps/server/test/chat-events.test.ts",
      "apps/server/test/websocket-limits.test.ts",
      "apps/server/test/request-logs.test.ts",
      "apps/server/test/metrics.test.ts",
    ],
  },
  "room-fanout": {
    mutate: "packages/core/src/domain/services/room-fanout.ts",
    tests: [
      "apps/server/test/chat-events.test.ts",
      "apps/server/test/chat-races.test.ts",
      "apps/server/test/push-subscriptions.test.ts",
      "apps/server/test/metrics.test.ts",
    ],
  },
  metrics: {
    mutate: "apps/server/src/metrics.ts",
    tests: ["apps/server/test/metrics.test.ts"],
  },
};
