import { submissionKinds, submissionStatuses } from "@parley/api/schemas";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { ForbiddenPage, isForbidden } from "./forbidden-page.tsx";
import { dateTime } from "./labels.ts";
import { TableScroll } from "./table-scroll.tsx";

type Kind = (typeof submissionKinds)[number];
type Status = (typeof submissionStatuses)[number];

const isKind = (value: string): value is Kind => (submissionKinds as readonly string[]).includes(value);
const isStatus = (value: string): value is Status =>
  (submissionStatuses as readonly string[]).includes(value);

/** Contact and demo requests for the team (admins only: the server refuses anyone else). */
export function SubmissionsPage() {
  const trpc = useTRPC();
  const [kind, setKind] = useState<Kind | "">("");
  const [status, setStatus] = useState<Status | "">("");
  const submissions = useInfiniteQuery(
    trpc.forms.submissions.list.infiniteQueryOptions(
      { ...(kind ? { kind } : {}), ...(status ? { status } : {}) },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const items = submissions.data?.pages.flatMap((page) => page.items) ?? [];

  if (isForbidden(submissions.error)) return <ForbiddenPage />;

  return (
    <Page title="Form submissions">
      <div className="inline-form">
        <label htmlFor="filter-kind">Kind</label>
        <select
          id="filter-kind"
          value={kind}
          onChange={(e) => setKind(isKind(e.target.value) ? e.target.value : "")}
        >
          <option value="">All</option>
          {submissionKinds.map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <label htmlFor="filter-status">Status</label>
        <select
          id="filter-status"
          value={status}
          onChange={(e) => setStatus(isStatus(e.target.value) ? e.target.value : "")}
        >
          <option value="">All</option>
          {submissionStatuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      {submissions.isPending && <p>Loading…</p>}
      {submissions.isError && <p className="form-error">{serverErrors(submissions.error)[""]}</p>}
      {submissions.isSuccess && items.length === 0 && <p>No submissions match.</p>}
      {items.length > 0 && (
        <TableScroll captionId="submissions-caption">
          <table>
            <caption id="submissions-caption" className="visually-hidden">
              Submissions, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Email</th>
                <th scope="col">Company</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={`/admin/submissions/${s.id}`}>{dateTime.format(new Date(s.createdAt))}</Link>
                  </td>
                  <td>{s.kind}</td>
                  <td>{s.name}</td>
                  <td className="wrap">{s.email}</td>
                  <td>{s.company ?? ""}</td>
                  <td>
                    <span className={`status status-${s.status}`}>{s.status}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {submissions.hasNextPage && (
        <button
          type="button"
          onClick={() => submissions.fetchNextPage()}
          disabled={submissions.isFetchingNextPage}
        >
          More
        </button>
      )}
    </Page>
  );
}
