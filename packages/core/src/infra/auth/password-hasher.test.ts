import { describe, expect, it } from "vitest";
import { createPasswordHasher, HasherBusyError } from "./password-hasher.ts";

describe("password hasher queue", () => {
  it("serves waiting accounts round-robin: a newcomer goes before the flood's backlog", async () => {
    const hasher = createPasswordHasher({ concurrency: 1, maxQueue: 10, maxPerKey: 10 });
    const finished: string[] = [];
    const call = (name: string, account: string) =>
      hasher.hash("a passphrase to hash", [`account:${account}`]).then(() => finished.push(name));
    await Promise.all([
      call("flood-1", "flooder"),
      call("flood-2", "flooder"),
      call("flood-3", "flooder"),
      call("flood-4", "flooder"),
      call("other", "someone else"),
    ]);
    expect(finished).toEqual(["flood-1", "flood-2", "other", "flood-3", "flood-4"]);
  });

  it("refuses a key's calls beyond its bound, by account or by address, and admits others", async () => {
    const hasher = createPasswordHasher({ concurrency: 1, maxQueue: 10, maxPerKey: 2 });
    const call = (account: string, ip: string) =>
      hasher.hash("a passphrase to hash", [`account:${account}`, `ip:${ip}`]);
    const admitted = [call("a", "192.0.2.1"), call("a", "192.0.2.2")];
    await expect(call("a", "192.0.2.3")).rejects.toBeInstanceOf(HasherBusyError);
    admitted.push(call("b", "192.0.2.1"));
    await expect(call("c", "192.0.2.1")).rejects.toBeInstanceOf(HasherBusyError);
    admitted.push(call("c", "192.0.2.9"));
    await Promise.all(admitted);
    // Their calls done, the keys are free again.
    await call("a", "192.0.2.1");
  });
});
