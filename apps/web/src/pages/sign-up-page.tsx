import { registerInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { type FieldErrors, formValues, serverErrors, validate } from "../forms/field-errors.ts";
import { FormAlert, TextField, useFocusFirstInvalid } from "../forms/fields.tsx";
import { Link, navigate } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { useSessionChanged } from "../session.ts";

export function SignUpPage() {
  const trpc = useTRPC();
  const sessionChanged = useSessionChanged();
  const [errors, setErrors] = useState<FieldErrors>({});
  const formRef = useFocusFirstInvalid(errors);
  const register = useMutation(
    trpc.auth.register.mutationOptions({
      onSuccess: async () => {
        await sessionChanged();
        navigate("/rooms", { replace: true });
      },
      onError: (error) => setErrors(serverErrors(error)),
    }),
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const result = validate(registerInput, formValues(event.currentTarget));
    if ("errors" in result) return setErrors(result.errors);
    setErrors({});
    register.mutate(result.data);
  };

  return (
    <Page title="Create an account">
      <form ref={formRef} onSubmit={submit} noValidate className="stack narrow">
        <FormAlert errors={errors} />
        <TextField
          label="Display name"
          name="displayName"
          autoComplete="nickname"
          error={errors.displayName}
        />
        <TextField label="Email" name="email" type="email" autoComplete="email" error={errors.email} />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="At least 10 characters; not your email, not a common password."
          error={errors.password}
        />
        <button type="submit" disabled={register.isPending}>
          {register.isPending ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Sign in</Link>.
      </p>
    </Page>
  );
}
