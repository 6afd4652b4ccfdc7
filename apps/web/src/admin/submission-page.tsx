import { submissionStatuses, updateSubmissionInput } from "@parley/api/schemas";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, SelectField, TextAreaField } from "../forms/fields.tsx";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { ForbiddenPage, isForbidden } from "./forbidden-page.tsx";
import { dateTime, FIELD_LABELS, FORM_KIND_TITLES } from "./labels.ts";

const STATUS_OPTIONS = submissionStatuses.map((s) => ({ value: s, label: s }));

/** One submission, its notes, and the form to move it along. */
export function SubmissionPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const submission = useQuery(trpc.forms.submissions.get.queryOptions({ id }));
  const [errors, setErrors] = useState<FieldErrors>({});
  const update = useMutation(
    trpc.forms.submissions.update.mutationOptions({
      onSuccess: async (updated) => {
        queryClient.setQueryData(trpc.forms.submissions.get.queryKey({ id }), updated);
        await queryClient.invalidateQueries({ queryKey: trpc.forms.submissions.list.pathKey() });
      },
      onError: (error) => setErrors(serverErrors(error)),
    }),
  );

  if (isForbidden(submission.error)) return <ForbiddenPage />;
  if (submission.isError) {
    return (
      <Page title="Submission">
        <p className="form-error">{serverErrors(submission.error)[""]}</p>
        <Link to="/admin/submissions">All submissions</Link>
      </Page>
    );
  }
  const s = submission.data;
  if (!s) return <Page title="Submission">{null}</Page>;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    const result = validate(updateSubmissionInput, {
      id,
      status: values.status === s.status ? undefined : values.status,
      note: values.note?.trim() ? values.note : undefined,
    });
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    update.mutate(result.data, { onSuccess: () => form.reset() });
  };

  return (
    <Page title={`${FORM_KIND_TITLES[s.kind]} from ${s.name}`}>
      <p>
        <Link to="/admin/submissions">All submissions</Link>
      </p>
      <dl className="details">
        <Detail term="Received">{dateTime.format(new Date(s.createdAt))}</Detail>
        <Detail term="Email">
          <a href={`mailto:${s.email}`}>{s.email}</a>
        </Detail>
        {s.company && <Detail term="Company">{s.company}</Detail>}
        {Object.entries(s.fields).map(([name, value]) => (
          <Detail key={name} term={FIELD_LABELS[name] ?? name}>
            <span className="pre-line">{value}</span>
          </Detail>
        ))}
        <Detail term="Status">
          <span className={`status status-${s.status}`}>{s.status}</span>
        </Detail>
      </dl>
      <h2>Notes</h2>
      {s.notes.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <ol className="notes">
          {s.notes.map((note) => (
            <li key={`${note.at}-${note.by}`}>
              <p className="message-meta">
                {note.by} · <time dateTime={note.at}>{dateTime.format(new Date(note.at))}</time>
              </p>
              <p className="pre-line">{note.text}</p>
            </li>
          ))}
        </ol>
      )}
      <form onSubmit={submit} noValidate className="stack narrow" key={s.status}>
        <h2>Update</h2>
        <FormAlert errors={errors} />
        <SelectField
          label="Status"
          name="status"
          options={STATUS_OPTIONS}
          defaultValue={s.status}
          error={errors.status}
        />
        <TextAreaField label="Add a note" name="note" rows={3} error={errors.note} />
        <button type="submit" disabled={update.isPending}>
          Save
        </button>
      </form>
      <div role="status">{update.isSuccess && <p className="notice">Saved.</p>}</div>
    </Page>
  );
}

function Detail({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
