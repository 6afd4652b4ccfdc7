/** A time as --json prints it: ISO 8601 in UTC, whether the server sent a Date or a string. */
export const isoTime = (value: Date | string): string => new Date(value).toISOString();

/** The same for a time that may be absent (not edited, not deleted). */
export const isoTimeOrNull = (value: Date | string | null | undefined): string | null =>
  value == null ? null : isoTime(value);
