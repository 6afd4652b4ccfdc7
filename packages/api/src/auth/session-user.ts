/**
 * The signed-in user as the API returns it. In a file of its own, apart from the session module's
 * lucia declarations, so that @parley/client's bundled types take this and not lucia's.
 */
export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: "user" | "admin";
  emailVerified: boolean;
  createdAt: Date;
}
