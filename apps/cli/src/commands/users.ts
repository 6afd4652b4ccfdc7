import { userRoles } from "@parley/api/schemas";
import type { ParleyClient } from "@parley/client";
import { CliError, ExitCode, usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";

type Role = (typeof userRoles)[number];

/** A user id as given, or the id of the account with this exact email. */
async function userIdOf(api: ParleyClient, userOrEmail: string): Promise<string> {
  if (!userOrEmail.includes("@")) return userOrEmail;
  const email = userOrEmail.trim().toLowerCase();
  const { items } = await api.admin.users.list.query({ search: email, limit: 100 });
  const user = items.find((u) => u.email.toLowerCase() === email);
  if (!user) throw new CliError(`No user with the email ${email}`, ExitCode.usage);
  return user.id;
}

export const usersSetRole = defineCommand({
  name: "users set-role",
  synopsis: "USER ROLE",
  summary: "make a user an admin, or a plain user again (admins)",
  details: [
    `USER is a user id or an email address; ROLE is ${userRoles.join(" or ")}. The last admin`,
    "cannot be demoted: the server refuses, so that somebody can always manage the others.",
  ].join("\n"),
  options: {},
  positionals: { min: 2, max: 2 },
  async run(ctx, _values, [user = "", roleArg = ""]) {
    if (!(userRoles as readonly string[]).includes(roleArg)) {
      throw usageError(`ROLE must be one of: ${userRoles.join(", ")}`);
    }
    const role = roleArg as Role;
    const { api } = await ctx.signedIn();
    const updated = await api.admin.users.setRole.mutate({ userId: await userIdOf(api, user), role });
    ctx.print(
      `${updated.displayName} <${updated.email}> is now ${updated.role === "admin" ? "an admin" : "a user"}.`,
    );
  },
});
