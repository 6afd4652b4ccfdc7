import { contactSubmitInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, TextAreaField, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Honeypot } from "../forms/honeypot.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

export function ContactPage() {
  const trpc = useTRPC();
  const [errors, setErrors] = useState<FieldErrors>({});
  const [sentTo, setSentTo] = useState<string | null>(null);
  const formRef = useFocusFirstInvalid(errors);
  const submitContact = useMutation(
    trpc.forms.contact.submit.mutationOptions({ onError: (error) => setErrors(serverErrors(error)) }),
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const result = validate(contactSubmitInput, formValues(form));
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    submitContact.mutate(result.data, {
      onSuccess: () => {
        setSentTo(result.data.email);
        form.reset();
      },
    });
  };

  return (
    <Page title="Contact us">
      <div role="status">
        {sentTo && (
          <p className="notice">
            Thank you: your message is with us, and a receipt is on its way to {sentTo}.
          </p>
        )}
      </div>
      <form ref={formRef} onSubmit={submit} noValidate className="stack narrow" aria-label="Contact form">
        <FormAlert errors={errors} />
        <TextField label="Name" name="name" autoComplete="name" error={errors.name} />
        <TextField label="Email" name="email" type="email" autoComplete="email" error={errors.email} />
        <TextField
          label="Company (optional)"
          name="company"
          autoComplete="organization"
          error={errors.company}
        />
        <TextField label="Subject" name="subject" error={errors.subject} />
        <TextAreaField
          label="Message"
          name="message"
          rows={6}
          hint="At least 10 characters."
          error={errors.message}
        />
        <Honeypot />
        <button type="submit" disabled={submitContact.isPending}>
          {submitContact.isPending ? "Sending…" : "Send message"}
        </button>
      </form>
    </Page>
  );
}
