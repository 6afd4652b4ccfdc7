/**
 * A strict RFC 4180 reader for the tests: CRLF line ends, quoted fields with doubled quotes,
 * every row as wide as the header. Throws on anything else, so "valid CSV" means something.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let index = 0;
  const endField = () => {
    row.push(field);
    field = "";
  };
  while (index < text.length) {
    const character = text[index];
    if (character === '"' && field === "") {
      index++;
      for (;;) {
        if (index >= text.length) throw new Error("unterminated quoted field");
        if (text[index] === '"') {
          if (text[index + 1] === '"') {
            field += '"';
            index += 2;
            continue;
          }
          index++;
          break;
        }
        field += text[index];
        index++;
      }
      const next = text[index];
      if (next !== "," && next !== "\r") throw new Error(`text after a closing quote at ${index}`);
      continue;
    }
    if (character === ",") {
      endField();
      index++;
    } else if (character === "\r") {
      if (text[index + 1] !== "\n") throw new Error(`bare CR at ${index}`);
      endField();
      rows.push(row);
      row = [];
      index += 2;
    } else if (character === "\n" || character === '"') {
      throw new Error(`bare ${JSON.stringify(character)} in an unquoted field at ${index}`);
    } else {
      field += character;
      index++;
    }
  }
  if (field !== "" || row.length > 0) throw new Error("the last row does not end with CRLF");
  const width = rows[0]?.length ?? 0;
  for (const [n, r] of rows.entries())
    if (r.length !== width) throw new Error(`row ${n} has ${r.length} fields`);
  return rows;
}
