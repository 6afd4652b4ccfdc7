import { jobStatuses } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { ForbiddenPage, isForbidden } from "./forbidden-page.tsx";
import { dateTime } from "./labels.ts";
import { Outcome, type OutcomeState } from "./outcome.tsx";
import { TableScroll } from "./table-scroll.tsx";

type Status = (typeof jobStatuses)[number];
type Job = RouterOutputs["admin"]["jobs"]["list"]["items"][number];

const isStatus = (value: string): value is Status => (jobStatuses as readonly string[]).includes(value);

/** A job the server takes back: dead, or waiting for its next try after a failure. */
const canRetry = (job: Job) => job.status === "dead" || (job.status === "pending" && job.attempts > 0);

/** The outgoing email queue: what was sent, what is waiting, what gave up, and why. */
export function JobsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status | "">("");
  const [outcome, setOutcome] = useState<OutcomeState>(null);
  const jobs = useInfiniteQuery(
    trpc.admin.jobs.list.infiniteQueryOptions(status ? { status } : {}, {
      getNextPageParam: (page) => page.nextCursor ?? undefined,
    }),
  );
  const retry = useMutation(
    trpc.admin.jobs.retry.mutationOptions({
      onSuccess: async (job) => {
        setOutcome({ ok: `The email to ${job.toAddress} will be sent again now.` });
        await queryClient.invalidateQueries({ queryKey: trpc.admin.jobs.list.pathKey() });
      },
      onError: (error) => {
        const errors = serverErrors(error);
        setOutcome({ error: errors[""] ?? Object.values(errors)[0] ?? "The email was not queued again." });
      },
    }),
  );
  const items = jobs.data?.pages.flatMap((page) => page.items) ?? [];

  if (isForbidden(jobs.error)) return <ForbiddenPage />;

  return (
    <Page title="Email jobs">
      <div className="inline-form">
        <label htmlFor="filter-job-status">Status</label>
        <select
          id="filter-job-status"
          value={status}
          onChange={(e) => setStatus(isStatus(e.target.value) ? e.target.value : "")}
        >
          <option value="">All</option>
          {jobStatuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <Outcome outcome={outcome} />
      {jobs.isPending && <p>Loading…</p>}
      {jobs.isError && <p className="form-error">{serverErrors(jobs.error)[""]}</p>}
      {jobs.isSuccess && items.length === 0 && <p>No email jobs match.</p>}
      {items.length > 0 && (
        <TableScroll captionId="jobs-caption">
          <table>
            <caption id="jobs-caption" className="visually-hidden">
              Email jobs, newest first
            </caption>
            {/* Recipient and status (with Retry) first: on a phone they are in view without scrolling. */}
            <thead>
              <tr>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Email</th>
                <th scope="col">Queued</th>
              </tr>
            </thead>
            <tbody>
              {items.map((job) => (
                <tr key={job.id}>
                  <td className="wrap">{job.toAddress}</td>
                  <td>
                    <div className="cell-actions">
                      <span className={`status job-${job.status}`}>{job.status}</span>
                      {canRetry(job) && (
                        <button
                          type="button"
                          className="secondary"
                          onClick={() => {
                            setOutcome(null);
                            retry.mutate({ id: job.id });
                          }}
                          disabled={retry.isPending}
                        >
                          Retry<span className="visually-hidden">: the email to {job.toAddress}</span>
                        </button>
                      )}
                    </div>
                  </td>
                  <td>
                    {job.attempts} of {job.maxAttempts}
                  </td>
                  <td className="wrap">{job.lastError ?? ""}</td>
                  <td>{job.template}</td>
                  <td>{dateTime.format(new Date(job.createdAt))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {jobs.hasNextPage && (
        <button type="button" onClick={() => jobs.fetchNextPage()} disabled={jobs.isFetchingNextPage}>
          More
        </button>
      )}
    </Page>
  );
}
