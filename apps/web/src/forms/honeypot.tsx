/**
 * The `website` field bots fill in and people never see: off screen (not display:none, which
 * some bots skip), out of the tab order and hidden from screen readers.
 */
export function Honeypot() {
  return (
    <div className="honeypot" aria-hidden="true">
      <label htmlFor="website">Leave this field empty</label>
      <input id="website" name="website" type="text" tabIndex={-1} autoComplete="off" />
    </div>
  );
}
