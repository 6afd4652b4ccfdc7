import type { ParleyClient } from "@parley/client";
import { CliError, ExitCode } from "./cli-error.ts";

/** A user id as given, or the id of the account with this exact email (admins only). */
export async function userIdOf(api: ParleyClient, userOrEmail: string): Promise<string> {
  if (!userOrEmail.includes("@")) return userOrEmail;
  const email = userOrEmail.trim().toLowerCase();
  const { items } = await api.admin.users.list.query({ search: email, limit: 100 });
  const user = items.find((u) => u.email.toLowerCase() === email);
  if (!user) throw new CliError(`No user with the email ${email}`, ExitCode.notFound);
  return user.id;
}
