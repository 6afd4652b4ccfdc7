/**
 * RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled, lines end
 * with CRLF. Text that a spreadsheet would run as a formula (=, +, -, @ at the start) gets a
 * leading apostrophe: these files hold what strangers typed into a public form. Values that
 * are plainly numbers or phone numbers ("+44 20 7946 0000", "-3") are left as they are.
 */
export function toCsv(header: string[], rows: (string | null | undefined)[][]): string {
  return [header, ...rows]
    .map((row) => row.map(csvField).join(","))
    .join("\r\n")
    .concat("\r\n");
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NUMBER_LIKE = /^[+-]?[\d\s().-]+$/;

export function csvField(value: string | null | undefined): string {
  let text = value ?? "";
  if (FORMULA_START.test(text) && !NUMBER_LIKE.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
