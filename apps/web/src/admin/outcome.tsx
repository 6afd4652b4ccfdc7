/** What an admin action came to: a confirmation, or the server's refusal in its own words. */
export type OutcomeState = { ok: string } | { error: string } | null;

/**
 * Both live regions are always in the page, so that a screen reader announces the text that
 * appears in them; the refusal as an alert, the confirmation politely.
 */
export function Outcome({ outcome }: { outcome: OutcomeState }) {
  return (
    <>
      <div role="status">{outcome && "ok" in outcome && <p className="notice">{outcome.ok}</p>}</div>
      <div role="alert">
        {outcome && "error" in outcome && <p className="notice notice-error">{outcome.error}</p>}
      </div>
    </>
  );
}
