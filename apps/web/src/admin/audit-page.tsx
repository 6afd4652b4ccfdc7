import { auditActions, listAuditInput } from "@parley/api/schemas";
import type { RouterInputs, RouterOutputs } from "@parley/client";
import { useInfiniteQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { serverErrors, validate } from "../forms/field-errors.ts";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { ForbiddenPage, isForbidden } from "./forbidden-page.tsx";
import { dateTime } from "./labels.ts";
import { TableScroll } from "./table-scroll.tsx";

type Action = (typeof auditActions)[number];
type Entry = RouterOutputs["admin"]["audit"]["list"]["items"][number];
type Filters = NonNullable<RouterInputs["admin"]["audit"]["list"]>;

const isAction = (value: string): value is Action => (auditActions as readonly string[]).includes(value);

/** A day picked in a date field, as the instant its local midnight is (plus `days`). */
function startOfDay(day: string, days = 0): string | undefined {
  if (!day) return undefined;
  const midnight = new Date(`${day}T00:00`);
  if (Number.isNaN(midnight.getTime())) return undefined;
  midnight.setDate(midnight.getDate() + days);
  return midnight.toISOString();
}

/** An entry's details as a line: `key: value`, nested values as JSON. */
function detailsText(details: Entry["details"]): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join(", ");
}

function actorText(entry: Entry): string {
  if (entry.actor) return `${entry.actor.displayName} <${entry.actor.email}>`;
  return entry.actorId ?? "—";
}

/** Who did what, when, from where: sign-ins, password changes, admin and moderation actions. */
export function AuditPage() {
  const trpc = useTRPC();
  const [action, setAction] = useState<Action | "">("");
  const [target, setTarget] = useState("");
  const [fromDay, setFromDay] = useState("");
  const [untilDay, setUntilDay] = useState("");
  const [filters, setFilters] = useState<Filters>({});
  const [filterError, setFilterError] = useState<string | null>(null);
  const entries = useInfiniteQuery(
    trpc.admin.audit.list.infiniteQueryOptions(filters, {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
    }),
  );
  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];

  if (isForbidden(entries.error)) return <ForbiddenPage />;

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const wanted = {
      ...(action ? { action } : {}),
      ...(target.trim() ? { targetId: target.trim() } : {}),
      ...(startOfDay(fromDay) ? { from: startOfDay(fromDay) } : {}),
      // The last day picked is included: entries before the next day's midnight.
      ...(startOfDay(untilDay, 1) ? { to: startOfDay(untilDay, 1) } : {}),
    };
    const result = validate(listAuditInput, wanted);
    if ("errors" in result) {
      setFilterError(Object.values(result.errors)[0] ?? "Cannot filter on that.");
      return;
    }
    if (wanted.from && wanted.to && wanted.from >= wanted.to) {
      setFilterError("The last day must not be before the first.");
      return;
    }
    setFilterError(null);
    setFilters(result.data ?? {});
  };

  return (
    <Page title="Audit log">
      <form className="inline-form" onSubmit={apply} aria-label="Filter the audit log">
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select
            id="audit-action"
            value={action}
            onChange={(e) => setAction(isAction(e.target.value) ? e.target.value : "")}
          >
            <option value="">All</option>
            {auditActions.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-target">Target id</label>
          <input id="audit-target" value={target} onChange={(e) => setTarget(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="date" value={fromDay} onChange={(e) => setFromDay(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input
            id="audit-until"
            type="date"
            value={untilDay}
            onChange={(e) => setUntilDay(e.target.value)}
          />
        </div>
        <button type="submit">Filter</button>
      </form>
      <div role="alert">{filterError && <p className="form-error">{filterError}</p>}</div>
      {entries.isPending && <p>Loading…</p>}
      {entries.isError && <p className="form-error">{serverErrors(entries.error)[""]}</p>}
      {entries.isSuccess && items.length === 0 && <p>No audit entries match.</p>}
      {items.length > 0 && (
        <TableScroll captionId="audit-caption">
          <table>
            <caption id="audit-caption" className="visually-hidden">
              Audit entries, newest first
            </caption>
            {/* Action and actor first: on a phone they are in view without scrolling. */}
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">By</th>
                <th scope="col">When</th>
                <th scope="col">Target</th>
                <th scope="col">Details</th>
                <th scope="col">Address</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id}>
                  <td>{entry.action}</td>
                  <td className="wrap">{actorText(entry)}</td>
                  <td>{dateTime.format(new Date(entry.at))}</td>
                  <td className="wrap">
                    {entry.targetType && entry.targetId ? `${entry.targetType} ${entry.targetId}` : "—"}
                  </td>
                  <td className="wrap">{detailsText(entry.details)}</td>
                  <td>{entry.ip ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {entries.hasNextPage && (
        <button type="button" onClick={() => entries.fetchNextPage()} disabled={entries.isFetchingNextPage}>
          More
        </button>
      )}
    </Page>
  );
}
