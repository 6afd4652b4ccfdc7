import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { useTRPC } from "../parley.ts";

/** "Report" on someone else's message: a reason, sent to the room's moderators. */
export function ReportButton({ messageId, authorName }: { messageId: string; authorName: string }) {
  const trpc = useTRPC();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  const report = useMutation(
    trpc.chat.moderation.report.mutationOptions({
      onError: (e) => {
        const errors = serverErrors(e);
        setError(errors.reason ?? errors[""] ?? "The report was not sent.");
      },
    }),
  );
  if (report.isSuccess) {
    return (
      <span className="muted" role="status">
        Reported
      </span>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    if (!reason.trim()) return setError("Say why you report it.");
    report.mutate({ messageId, reason: reason.trim() });
  };
  const fieldId = `report-${messageId}`;
  return (
    <>
      {/* A button, not another <details>: the message's one <summary> stays its reaction picker. */}
      <button type="button" className="link-button" aria-expanded={open} onClick={() => setOpen(!open)}>
        Report<span className="visually-hidden"> {authorName}'s message</span>
      </button>
      {open && (
        <form onSubmit={submit} noValidate>
          <label htmlFor={fieldId}>Why?</label>
          <input
            id={fieldId}
            value={reason}
            maxLength={500}
            onChange={(e) => setReason(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${fieldId}-error` : undefined}
          />
          {error && (
            <p id={`${fieldId}-error`} className="field-error">
              {error}
            </p>
          )}
          <button type="submit" disabled={report.isPending}>
            Send report
          </button>
        </form>
      )}
    </>
  );
}
