// In a file of its own, apart from session-module.ts and its `declare module "lucia"`: the router's
// output types reach this one, and @parley/client's bundled declarations take this file only.

/** The signed-in user as the API returns it. */
export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  /** What `@handle` mentions resolve to. */
  handle: string;
  role: "user" | "admin";
  emailVerified: boolean;
  createdAt: Date;
}
