import { submissionKinds, submissionStatuses } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { oneOf } from "../choice-option.ts";
import { usageError } from "../cli-error.ts";
import { defineCommand } from "../command.ts";
import { toCsv } from "../csv.ts";
import { isoTime } from "../iso-time.ts";
import { cell, formatTable } from "../output-table.ts";
import { parseLimit, readPages } from "../paging.ts";

type Submission = RouterOutputs["forms"]["submissions"]["list"]["items"][number];
type Kind = (typeof submissionKinds)[number];
type Status = (typeof submissionStatuses)[number];

/** The forms' own fields, in the order the CSV gives them columns. */
const FIELD_COLUMNS = [
  ["subject", "subject"],
  ["message", "message"],
  ["companySize", "company_size"],
  ["role", "role"],
  ["useCase", "use_case"],
  ["preferredDate", "preferred_date"],
  ["timezone", "timezone"],
  ["phone", "phone"],
] as const;

export const submissionsList = defineCommand({
  details: [
    "Every submission matching the filters, newest first, as a table or (--csv) as RFC 4180",
    "CSV with a header row, for a spreadsheet or a script. Cells starting with = + - @ get a",
    "leading ' so a spreadsheet does not run them as formulas.",
    "JSON fields: id, createdAt, kind, status, name, email, company, and fields (the form's own:",
    `${FIELD_COLUMNS.map(([field]) => field).join(", ")}; null when the form has none).`,
  ].join("\n"),
  options: {
    status: {
      type: "string",
      description: `only this status: ${submissionStatuses.join(", ")}`,
      valueName: "STATUS",
    },
    kind: { type: "string", description: `only this form: ${submissionKinds.join(", ")}`, valueName: "KIND" },
    limit: { type: "string", description: "at most N (default: all)", valueName: "N" },
    csv: { type: "boolean", description: "print CSV instead of a table" },
  },
  json: "array",
  positionals: { min: 0, max: 0 },
  async run(ctx, values) {
    if (values.csv && values.json) throw usageError("--csv and --json: choose one");
    const status = oneOf<Status>(submissionStatuses, values.status, "status");
    const kind = oneOf<Kind>(submissionKinds, values.kind, "kind");
    const limit = parseLimit(values.limit);
    if (limit === null) throw usageError("--limit must be a positive whole number");
    const { api } = await ctx.signedIn();
    const submissions: Submission[] = await readPages(
      (cursor, pageSize) => api.forms.submissions.list.query({ status, kind, cursor, limit: pageSize }),
      limit,
    );

    if (values.json) {
      ctx.printJson(
        submissions.map((s) => ({
          id: s.id,
          createdAt: isoTime(s.createdAt),
          kind: s.kind,
          status: s.status,
          name: s.name,
          email: s.email,
          company: s.company ?? null,
          fields: Object.fromEntries(FIELD_COLUMNS.map(([field]) => [field, s.fields[field] ?? null])),
        })),
      );
      return;
    }
    if (values.csv) {
      const header = ["id", "created_at", "kind", "status", "name", "email", "company"];
      const rows = submissions.map((s) => [
        s.id,
        isoTime(s.createdAt),
        s.kind,
        s.status,
        s.name,
        s.email,
        s.company,
        ...FIELD_COLUMNS.map(([field]) => s.fields[field]),
      ]);
      ctx.io.stdout.write(toCsv([...header, ...FIELD_COLUMNS.map(([, column]) => column)], rows));
      return;
    }
    if (submissions.length === 0) {
      ctx.print("No submissions match.");
      return;
    }
    const rows = submissions.map((s) => [
      isoTime(s.createdAt).slice(0, 16).replace("T", " "),
      s.kind,
      s.status,
      cell(s.name, 30),
      s.email,
      cell(s.fields.subject ?? s.fields.useCase, 50),
    ]);
    for (const line of formatTable(["RECEIVED (UTC)", "KIND", "STATUS", "NAME", "EMAIL", "ABOUT"], rows)) {
      ctx.print(line);
    }
  },
});
