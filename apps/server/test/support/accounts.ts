import { promoteToAdmin } from "@parley/core";
import { GOOD_PASSWORD, type TestServer, uniqueEmail } from "./test-server.ts";

/** A registered account, promoted to admin the way `admin:create` does it. */
export async function signedInAdmin(t: TestServer) {
  const email = uniqueEmail("admin");
  const { token, user } = await t
    .client()
    .auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Admin" });
  if (!token) throw new Error("register returned no token");
  await promoteToAdmin({ db: t.server.deps.db, clock: () => new Date() }, email);
  return { email, token, user, api: t.client(token) };
}

/** A registered account with the role `user`. */
export async function signedInUser(t: TestServer) {
  const email = uniqueEmail("member");
  const { token, user } = await t
    .client()
    .auth.register.mutate({ email, password: GOOD_PASSWORD, displayName: "Member" });
  if (!token) throw new Error("register returned no token");
  return { email, token, user, api: t.client(token) };
}
