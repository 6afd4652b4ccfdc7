import { type FormEvent, useId } from "react";

interface SearchFormProps {
  /** The field's label. */
  label: string;
  /** The field's name, also the query parameter the page keeps the search in. */
  name: string;
  /** The search the page shows now (from the URL): the field starts with it, and again when it changes. */
  value: string;
  error: string | null;
  /** The text submitted; the page validates it and navigates. */
  onSearch: (text: string) => void;
}

/** A one-field search in a `<search>` landmark, its error tied to the field. */
export function SearchForm({ label, name, value, error, onSearch }: SearchFormProps) {
  const id = useId();
  const errorId = `${id}-error`;
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    onSearch(String(new FormData(event.currentTarget).get(name) ?? ""));
  };
  return (
    <search>
      <form onSubmit={submit} noValidate className="inline-form">
        <label htmlFor={id}>{label}</label>
        <input
          id={id}
          name={name}
          type="search"
          defaultValue={value}
          key={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
        />
        <button type="submit">Search</button>
        {error && (
          <p id={errorId} className="field-error">
            {error}
          </p>
        )}
      </form>
    </search>
  );
}
