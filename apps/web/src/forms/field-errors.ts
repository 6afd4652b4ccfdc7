import { TRPCClientError } from "@parley/client";

/** One message per field name ("" for errors that belong to the whole form). */
export type FieldErrors = Record<string, string>;

interface Issue {
  path: readonly PropertyKey[];
  message: string;
}

/** The part of a zod schema a form needs: the shared schemas from @parley/api/schemas fit. */
export interface FormSchema<T> {
  safeParse(
    input: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: readonly Issue[] } };
}

/** Validates in the browser with the same schema the server uses: the first message per field. */
export function validate<T>(schema: FormSchema<T>, values: unknown): { data: T } | { errors: FieldErrors } {
  const result = schema.safeParse(values);
  if (result.success) return { data: result.data };
  const errors: FieldErrors = {};
  for (const issue of result.error.issues) {
    const field = String(issue.path[0] ?? "");
    errors[field] ??= issue.message;
  }
  return { errors };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * What the server said, as field errors: `data.zodError.fieldErrors` for a validation failure
 * (including checks only the server can make), the message under "" for anything else.
 */
export function serverErrors(error: unknown): FieldErrors {
  if (!(error instanceof TRPCClientError)) return { "": "Something went wrong. Try again." };
  const data: unknown = error.data;
  const zodError = isRecord(data) ? data.zodError : null;
  if (isRecord(zodError) && isRecord(zodError.fieldErrors)) {
    const errors: FieldErrors = {};
    for (const [field, messages] of Object.entries(zodError.fieldErrors)) {
      if (Array.isArray(messages) && typeof messages[0] === "string") errors[field] = messages[0];
    }
    const formErrors = zodError.formErrors;
    if (Array.isArray(formErrors) && typeof formErrors[0] === "string") errors[""] = formErrors[0];
    if (Object.keys(errors).length > 0) return errors;
  }
  if (error.message === "Failed to fetch" || /fetch|network/i.test(error.message)) {
    return { "": "Cannot reach the server. Check your connection and try again." };
  }
  return { "": error.message };
}

/** The form's fields as strings, the way the shared schemas take them. */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of new FormData(form)) if (typeof value === "string") values[name] = value;
  return values;
}
