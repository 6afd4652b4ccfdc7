/**
 * Every bench message carries a marker in its text: `~b<run>.<index>.<intended µs>~`, where index
 * numbers the messages of a run and the intended send time is on the generator's clock
 * (performance.now()). A subscriber finds it in the raw frame with one indexOf, whatever the
 * server's envelope, so the generator spends almost nothing per delivery.
 */
const START = Buffer.from("~b");
const FILLER = " the quick brown fox jumps over the lazy dog, a message of ordinary chat length";

export function markerText(run: number, index: number, intendedMs: number): string {
  return `~b${run}.${index}.${Math.round(intendedMs * 1000)}~${FILLER}`;
}

export interface Marker {
  run: number;
  index: number;
  intendedMs: number;
}

function readNumber(text: Buffer | string, from: number, end: number): [number, number] {
  let value = 0;
  let i = from;
  for (; i < end; i++) {
    const c = typeof text === "string" ? text.charCodeAt(i) : (text[i] ?? 0);
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  return [value, i];
}

/** The marker in a frame (Buffer) or a decoded string, or null. */
export function readMarker(text: Buffer | string): Marker | null {
  const at = typeof text === "string" ? text.indexOf("~b") : text.indexOf(START);
  if (at < 0) return null;
  const end = text.length;
  const [run, i1] = readNumber(text, at + 2, end);
  const [index, i2] = readNumber(text, i1 + 1, end);
  const [micros] = readNumber(text, i2 + 1, end);
  return { run, index, intendedMs: micros / 1000 };
}

/** The number after the first occurrence of `"key":` or `"key":"` in a frame (ids, seqs), or null. */
export function readNumberField(frame: Buffer, key: Buffer): number | null {
  const at = frame.indexOf(key);
  if (at < 0) return null;
  let i = at + key.length;
  if (frame[i] === 34) i++; // a quoted number
  const [value, stop] = readNumber(frame, i, frame.length);
  return stop > i ? value : null;
}
