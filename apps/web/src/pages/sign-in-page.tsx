import { loginInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Link, navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { useSessionChanged } from "../session.ts";

/** Only paths on this site: `next` comes from the URL, so it must not send the user elsewhere. */
function safeNext(next: string | null) {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/rooms";
}

export function SignInPage({ next }: { next: string | null }) {
  const trpc = useTRPC();
  const sessionChanged = useSessionChanged();
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useFocusFirstInvalid(errors);
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async () => {
        await sessionChanged();
        navigate(safeNext(next), { replace: true });
      },
      onError: (error) => setErrors(serverErrors(error)),
    }),
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validate(loginInput, formValues(event.currentTarget));
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    login.mutate(result.data);
  };

  return (
    <Page title="Sign in">
      <form ref={formRef} onSubmit={submit} noValidate className="stack narrow">
        <FormAlert errors={errors} />
        <TextField label="Email" name="email" type="email" autoComplete="email" error={errors.email} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          error={errors.password}
        />
        <button type="submit" disabled={login.isPending}>
          {login.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <Link to="/sign-up">Create an account</Link>.{" "}
        <Link to="/reset-password">Forgot your password?</Link>
      </p>
    </Page>
  );
}
