import { createParleyClient, type ParleyClient, type RouterOutputs } from "@parley/client";
import { promoteToAdmin } from "@parley/core";
import WebSocket from "ws";
import type { RestartableServer } from "./restartable-server.ts";
import type { ServerUnderTest } from "./server-under-test.ts";

export const GOOD_PASSWORD = "correct horse battery staple";

let counter = 0;
/** An address no other test (or test process) uses; the prefix, lower-cased, says whose it is. */
export function uniqueEmail(prefix = "user"): string {
  counter++;
  const name = prefix.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return `${name}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export type User = RouterOutputs["auth"]["register"]["user"];

export interface SignedUp {
  email: string;
  displayName: string;
  token: string;
  user: User;
  /** A client sending the account's token, over HTTP and WebSocket. */
  api: ParleyClient;
}

/**
 * Signs someone up at `url` the way a tool does (no Origin, so the token comes back in the
 * response) with GOOD_PASSWORD: the one sign-up of the server, web, CLI and load suites.
 */
export async function signUpAt(url: string, displayName = "User"): Promise<SignedUp> {
  const email = uniqueEmail(displayName);
  const { token, user } = await createParleyClient({ url }).auth.register.mutate({
    email,
    password: GOOD_PASSWORD,
    displayName,
  });
  if (!token) throw new Error("auth.register returned no token to a caller without Origin");
  return { email, displayName, token, user, api: createParleyClient({ url, token, WebSocket }) };
}

/** Signs in at `url` as a tool does (no Origin, so the token comes back): a client sending the token. */
export async function signInAt(url: string, email: string, password = GOOD_PASSWORD): Promise<ParleyClient> {
  const { token } = await createParleyClient({ url }).auth.login.mutate({ email, password });
  if (!token) throw new Error("auth.login returned no token to a caller without Origin");
  return createParleyClient({ url, token, WebSocket });
}

/** An admin made as `admin:create` makes one (in the database of `server`), and a client signed in as them. */
export async function createdAdminAt(
  server: Pick<RestartableServer, "url" | "createAdmin">,
  displayName = "Team Admin",
): Promise<{ email: string; api: ParleyClient }> {
  const email = uniqueEmail("admin");
  await server.createAdmin({ email, password: GOOD_PASSWORD, displayName });
  return { email, api: await signInAt(server.url, email) };
}

/** A registered account, promoted to admin the way `admin:create` does it. */
export async function signedInAdmin(t: ServerUnderTest): Promise<SignedUp> {
  const account = await signUpAt(t.url, "Admin");
  await promoteToAdmin({ db: t.server.deps.db, clock: () => new Date() }, account.email);
  return account;
}

/** A registered account with the role `user`. */
export function signedInUser(t: ServerUnderTest): Promise<SignedUp> {
  return signUpAt(t.url, "Member");
}
