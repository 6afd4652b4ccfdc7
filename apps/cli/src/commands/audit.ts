import { auditActions } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { oneOf } from "../choice-option.ts";
import { usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { isoTime } from "../iso-time.ts";
import { cell, formatTable } from "../output-table.ts";
import { parseLimit, readPages } from "../paging.ts";
import { findRoom } from "../room-lookup.ts";
import { userIdOf } from "../user-lookup.ts";

type Entry = RouterOutputs["admin"]["audit"]["list"]["items"][number];
type Action = (typeof auditActions)[number];

/** A time as typed ("2030-05-01", "2030-05-01T14:00", with or without an offset; UTC unless given). */
function instantOption(value: string | undefined, option: string): string | undefined {
  if (value === undefined) return undefined;
  const hasOffset = /(?:Z|[+-]\d\d:?\d\d)$/i.test(value);
  const time = new Date(hasOffset || !value.includes("T") ? value : `${value}Z`);
  if (Number.isNaN(time.getTime())) {
    throw usageError(`--${option} must be a date or a date and time, e.g. 2030-05-01 or 2030-05-01T14:00Z`);
  }
  return time.toISOString();
}

/** What the table shows of an entry's details: `key=value`, nested values as JSON. */
function detailsText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(" ");
}

export const auditList = defineCommand({
  details: [
    "The audit log newest first (admins): sign-ins and failed sign-ins, logouts, password",
    "changes and resets, revoked sessions, admin and moderation actions. --actor takes a user id",
    "or an email; --room a room id or name; --from and --to a date or an ISO 8601 time (UTC",
    "unless it has an offset), --from inclusive, --to exclusive.",
    `Actions: ${auditActions.join(", ")}.`,
    "JSON fields: id, at, action, actorId, actor ({ id, displayName, email } or null), targetType,",
    "targetId, roomId, ip, details.",
  ].join("\n"),
  options: {
    action: { type: "string", description: "only this action, e.g. auth.login_failed", valueName: "ACTION" },
    actor: { type: "string", description: "only what this user did", valueName: "USER" },
    target: { type: "string", description: "only entries about this id", valueName: "ID" },
    room: { type: "string", description: "only entries about this room", valueName: "ROOM" },
    from: { type: "string", description: "only entries at or after TIME", valueName: "TIME" },
    to: { type: "string", description: "only entries before TIME", valueName: "TIME" },
    limit: { type: "string", description: "at most N (default: all)", valueName: "N" },
  },
  json: "array",
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    const action = oneOf<Action>(auditActions, values.action, "action");
    const from = instantOption(values.from, "from");
    const to = instantOption(values.to, "to");
    const limit = parseLimit(values.limit);
    if (limit === null) throw usageError("--limit must be a positive whole number");
    const { api } = await ctx.signedIn();
    const actorId = values.actor === undefined ? undefined : await userIdOf(api, values.actor);
    const roomId = values.room === undefined ? undefined : (await findRoom(api, values.room)).id;
    const entries: Entry[] = await readPages(
      (cursor, pageSize) =>
        api.admin.audit.list.query({
          action,
          actorId,
          targetId: values.target,
          roomId,
          from,
          to,
          cursor,
          limit: pageSize,
        }),
      limit,
    );
    if (values.json) {
      ctx.printJson(
        entries.map((e) => ({
          id: e.id,
          at: isoTime(e.at),
          action: e.action,
          actorId: e.actorId,
          actor: e.actor,
          targetType: e.targetType,
          targetId: e.targetId,
          roomId: e.roomId,
          ip: e.ip,
          details: e.details,
        })),
      );
      return;
    }
    if (entries.length === 0) {
      ctx.print("No audit entries match.");
      return;
    }
    const rows = entries.map((e) => [
      isoTime(e.at).slice(0, 19).replace("T", " "),
      e.action,
      e.actor?.email ?? e.actorId ?? "-",
      e.targetType && e.targetId ? `${e.targetType}:${e.targetId}` : "-",
      e.ip ?? "-",
      cell(detailsText(e.details), 60),
    ]);
    for (const line of formatTable(["AT (UTC)", "ACTION", "ACTOR", "TARGET", "IP", "DETAILS"], rows)) {
      ctx.print(line);
    }
  },
});
