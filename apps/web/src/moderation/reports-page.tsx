import { reportStatuses } from "@parley/api/schemas";
import type { RouterOutputs } from "@parley/client";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { dateTime } from "../admin/labels.ts";
import { Outcome, type OutcomeState } from "../admin/outcome.tsx";
import { TableScroll } from "../admin/table-scroll.tsx";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

type Status = (typeof reportStatuses)[number];
type Report = RouterOutputs["chat"]["moderation"]["reports"]["items"][number];
type Action = "delete" | "mute" | "ban" | "dismiss";

const isStatus = (value: string): value is Status => (reportStatuses as readonly string[]).includes(value);

const ACTION_LABELS: Record<Action, string> = {
  delete: "Delete message",
  mute: "Mute author 1 day",
  ban: "Ban author",
  dismiss: "Dismiss",
};

/**
 * The report queue: for a room's moderators the rooms they moderate, for admins every room
 * (the server decides which: the same page serves both).
 */
export function ReportsPage({ roomId }: { roomId?: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status>("open");
  const [outcome, setOutcome] = useState<OutcomeState>(null);
  const reports = useInfiniteQuery(
    trpc.chat.moderation.reports.infiniteQueryOptions(
      { status, ...(roomId ? { roomId } : {}) },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
  );
  const resolve = useMutation(
    trpc.chat.moderation.resolveReport.mutationOptions({
      onSuccess: async (result) => {
        setOutcome({ ok: `Done: ${result.closedReports} report(s) closed.` });
        await queryClient.invalidateQueries({ queryKey: trpc.chat.moderation.reports.pathKey() });
      },
      onError: (error) => setOutcome({ error: serverErrors(error)[""] ?? "The report was not resolved." }),
    }),
  );
  const items = reports.data?.pages.flatMap((page) => page.items) ?? [];
  const act = (report: Report, action: Action) => {
    setOutcome(null);
    resolve.mutate({
      reportId: report.id,
      action,
      ...(action === "mute" ? { durationMinutes: 24 * 60 } : {}),
    });
  };

  return (
    <Page title="Reports">
      <div className="inline-form">
        <label htmlFor="filter-report-status">Status</label>
        <select
          id="filter-report-status"
          value={status}
          onChange={(e) => setStatus(isStatus(e.target.value) ? e.target.value : "open")}
        >
          {reportStatuses.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </div>
      <Outcome outcome={outcome} />
      {reports.isPending && <p>Loading…</p>}
      {reports.isError && <p className="form-error">{serverErrors(reports.error)[""]}</p>}
      {reports.isSuccess && items.length === 0 && <p>No reports here.</p>}
      {items.length > 0 && (
        <TableScroll captionId="reports-caption">
          <table>
            <caption id="reports-caption" className="visually-hidden">
              Reported messages, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Message</th>
                <th scope="col">Reason</th>
                <th scope="col">Room</th>
                <th scope="col">Reported by</th>
                <th scope="col">When</th>
                <th scope="col">{status === "open" ? "Action" : "Resolution"}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((report) => (
                <tr key={report.id}>
                  <td className="wrap">
                    <strong>{report.authorName}</strong>: {report.content ?? <em>deleted</em>}
                  </td>
                  <td className="wrap">{report.reason}</td>
                  <td>
                    <Link to={`/rooms/${report.roomId}/settings`}>{report.roomName}</Link>
                  </td>
                  <td>{report.reporterName}</td>
                  <td>{dateTime.format(new Date(report.createdAt))}</td>
                  <td>
                    {status === "open" ? (
                      <div className="cell-actions">
                        {(Object.keys(ACTION_LABELS) as Action[]).map((action) => (
                          <button
                            key={action}
                            type="button"
                            className="secondary"
                            disabled={resolve.isPending}
                            onClick={() => act(report, action)}
                          >
                            {ACTION_LABELS[action]}
                            <span className="visually-hidden">
                              : the report on {report.authorName}'s message
                            </span>
                          </button>
                        ))}
                      </div>
                    ) : (
                      report.resolution
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      {reports.hasNextPage && (
        <button type="button" onClick={() => reports.fetchNextPage()} disabled={reports.isFetchingNextPage}>
          More reports
        </button>
      )}
    </Page>
  );
}
