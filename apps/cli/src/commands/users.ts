import { userRoles } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { isoTime } from "../iso-time.ts";
import { formatTable } from "../output-table.ts";
import { readPages } from "../paging.ts";
import { userIdOf } from "../user-lookup.ts";

type Role = (typeof userRoles)[number];

type User = RouterOutputs["admin"]["users"]["list"]["items"][number];

export const usersList = defineCommand({
  details: [
    "Every account (or those matching --search), newest first.",
    "JSON fields: id, email, displayName, role, emailVerified, createdAt.",
  ].join("\n"),
  options: {
    search: {
      type: "string",
      description: "only accounts whose email or name contains TEXT",
      valueName: "TEXT",
    },
  },
  json: "array",
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    const { api } = await ctx.signedIn();
    const users: User[] = await readPages((cursor, limit) =>
      api.admin.users.list.query({ search: values.search, cursor, limit }),
    );
    if (values.json) {
      ctx.printJson(
        users.map((user) => ({
          id: user.id,
          email: user.email,
          displayName: user.displayName,
          role: user.role,
          emailVerified: user.emailVerified,
          createdAt: isoTime(user.createdAt),
        })),
      );
      return;
    }
    if (users.length === 0) {
      ctx.print("No accounts match.");
      return;
    }
    const rows = users.map((user) => [
      isoTime(user.createdAt).slice(0, 16).replace("T", " "),
      user.role,
      user.emailVerified ? "yes" : "no",
      user.email,
      user.displayName,
    ]);
    for (const line of formatTable(["CREATED (UTC)", "ROLE", "VERIFIED", "EMAIL", "NAME"], rows)) {
      ctx.print(line);
    }
  },
});

export const usersSetRole = defineCommand({
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
