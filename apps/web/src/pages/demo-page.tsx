import { companySizes, demoSubmitInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, SelectField, TextAreaField, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Honeypot } from "../forms/honeypot.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

const SIZE_OPTIONS = [
  { value: "", label: "Choose…" },
  ...companySizes.map((size) => ({ value: size, label: `${size} people` })),
];

/**
 * datetime-local gives a wall-clock time without an offset; the schema wants an instant, so
 * it is read in the browser's zone. Anything unreadable goes through as typed, for the
 * schema to explain.
 */
function preferredInstant(local: string | undefined): string | undefined {
  if (!local) return undefined;
  const instant = new Date(local);
  return Number.isNaN(instant.getTime()) ? local : instant.toISOString();
}

export function DemoPage() {
  const trpc = useTRPC();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sentTo, setSentTo] = useState<string | null>(null);
  const formRef = useFocusFirstInvalid(errors);
  const requestDemo = useMutation(
    trpc.forms.demo.submit.mutationOptions({ onError: (error) => setErrors(serverErrors(error)) }),
  );
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const values = formValues(form);
    const result = validate(demoSubmitInput, {
      ...values,
      companySize: values.companySize || undefined,
      preferredDate: preferredInstant(values.preferredDate),
    });
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    requestDemo.mutate(result.data, {
      onSuccess: () => {
        setSentTo(result.data.workEmail);
        form.reset();
      },
    });
  };

  return (
    <Page title="Request a demo">
      <div role="status">
        {sentTo && (
          <p className="notice">Thank you: we will be in touch, and a receipt is on its way to {sentTo}.</p>
        )}
      </div>
      <form
        ref={formRef}
        onSubmit={submit}
        noValidate
        className="stack narrow"
        aria-label="Demo request form"
      >
        <FormAlert errors={errors} />
        <TextField label="Name" name="name" autoComplete="name" error={errors.name} />
        <TextField
          label="Work email"
          name="workEmail"
          type="email"
          autoComplete="email"
          hint="Your company address, not a free-mail one."
          error={errors.workEmail}
        />
        <TextField label="Company" name="company" autoComplete="organization" error={errors.company} />
        <SelectField
          label="Company size"
          name="companySize"
          options={SIZE_OPTIONS}
          defaultValue=""
          error={errors.companySize}
        />
        <TextField
          label="Your role (optional)"
          name="role"
          autoComplete="organization-title"
          error={errors.role}
        />
        <TextAreaField
          label="What would you use Parley for?"
          name="useCase"
          rows={5}
          hint="At least 10 characters."
          error={errors.useCase}
        />
        <TextField
          label="Preferred date and time (optional)"
          name="preferredDate"
          type="datetime-local"
          error={errors.preferredDate}
        />
        <TextField
          label="Time zone (optional)"
          name="timezone"
          defaultValue={browserZone}
          hint="An IANA name such as Europe/Paris."
          error={errors.timezone}
        />
        <TextField label="Phone (optional)" name="phone" type="tel" autoComplete="tel" error={errors.phone} />
        <Honeypot />
        <button type="submit" disabled={requestDemo.isPending}>
          {requestDemo.isPending ? "Sending…" : "Request a demo"}
        </button>
      </form>
    </Page>
  );
}
