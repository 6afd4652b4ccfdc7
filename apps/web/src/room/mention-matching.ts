/** Which `@handle` is being typed and who it may name: pure, so tested without a browser. */

const MAX_OPTIONS = 8;

export interface MentionCandidate {
  userId: string;
  displayName: string;
  handle: string;
}

/** The `@word` being typed just before the caret (a handle is a-z, 0-9, _), or null. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|\s)@([a-z0-9_]{0,24})$/i.exec(text.slice(0, caret));
  if (!match) return null;
  const query = match[1] ?? "";
  return { start: caret - query.length - 1, query: query.toLowerCase() };
}

/** Handles starting with the query first, then names containing it; never the writer. */
export function mentionOptions(
  candidates: readonly MentionCandidate[],
  query: string,
  myId: string,
): MentionCandidate[] {
  const others = candidates.filter((c) => c.userId !== myId);
  const byHandle = others.filter((c) => c.handle.startsWith(query));
  const byName = others.filter((c) => !byHandle.includes(c) && c.displayName.toLowerCase().includes(query));
  return [...byHandle, ...byName].slice(0, MAX_OPTIONS);
}
