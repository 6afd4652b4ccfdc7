import { usageError } from "./cli-error.ts";

/** An option whose value must be one of a closed list: the value, or a usage error naming the list. */
export function oneOf<T extends string>(
  allowed: readonly T[],
  value: string | undefined,
  option: string,
): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`--${option} must be one of: ${allowed.join(", ")}`);
}
