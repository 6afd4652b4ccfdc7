import { requestPasswordResetInput, resetPasswordInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";

/** Without a token: asks for the email to send a link to. With one (from that link): a new password. */
export function ResetPasswordPage({ token }: { token: string | null }) {
  return token ? <ChooseNewPassword token={token} /> : <RequestResetLink />;
}

function RequestResetLink() {
  const trpc = useTRPC();
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useFocusFirstInvalid(errors);
  const request = useMutation(
    trpc.auth.requestPasswordReset.mutationOptions({ onError: (error) => setErrors(serverErrors(error)) }),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validate(requestPasswordResetInput, formValues(event.currentTarget));
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    request.mutate(result.data);
  };
  return (
    <Page title="Reset your password">
      {request.isSuccess ? (
        <p role="status" className="notice">
          If an account uses that address, we sent it a link to choose a new password. It works for one hour.
        </p>
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate className="stack narrow">
          <FormAlert errors={errors} />
          <TextField label="Email" name="email" type="email" autoComplete="email" error={errors.email} />
          <button type="submit" disabled={request.isPending}>
            Send me a link
          </button>
        </form>
      )}
    </Page>
  );
}

function ChooseNewPassword({ token }: { token: string }) {
  const trpc = useTRPC();
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useFocusFirstInvalid(errors);
  const reset = useMutation(
    trpc.auth.resetPassword.mutationOptions({ onError: (error) => setErrors(serverErrors(error)) }),
  );
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validate(resetPasswordInput, { ...formValues(event.currentTarget), token });
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    reset.mutate(result.data);
  };
  return (
    <Page title="Choose a new password">
      {reset.isSuccess ? (
        <p role="status" className="notice">
          Your password is changed and every session was signed out. <Link to="/sign-in">Sign in</Link>.
        </p>
      ) : (
        <form ref={formRef} onSubmit={submit} noValidate className="stack narrow">
          <FormAlert errors={{ "": errors[""] ?? errors.token ?? "" }} />
          <TextField
            label="New password"
            name="password"
            type="password"
            autoComplete="new-password"
            hint="At least 10 characters; not a common password."
            error={errors.password}
          />
          <button type="submit" disabled={reset.isPending}>
            Set password
          </button>
        </form>
      )}
    </Page>
  );
}
