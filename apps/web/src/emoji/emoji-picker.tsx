import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { type Emoji, searchEmoji } from "./emoji-data.ts";

/** Emoji per row: the arrow keys move by one (left, right) or by a row (up, down). */
const COLUMNS = 8;

/**
 * A button that opens a searchable emoji grid. Keyboard: the search field has focus when it
 * opens; Down (or Tab) moves into the grid; arrows, Home and End move there (one stop in the
 * Tab order: a roving tabindex); Enter or Space picks; Escape closes. Focus goes back to the
 * button on close, or to `focusAfterPick` after a pick (the composer's text box, say).
 */
export function EmojiPicker({
  label,
  trigger,
  onPick,
  focusAfterPick,
  placement = "below",
}: {
  /** Names the button and the dialog: "Add a reaction", "Insert an emoji". */
  label: string;
  trigger: ReactNode;
  onPick: (emoji: string) => void;
  focusAfterPick?: () => void;
  placement?: "above" | "below";
}) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const root = useRef<HTMLDivElement>(null);

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };

  // A press outside closes it, as a menu would; focus stays where the press put it.
  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (event.target instanceof Node && !root.current?.contains(event.target)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  return (
    <div className="emoji-picker" ref={root}>
      <button
        ref={button}
        type="button"
        className="emoji-trigger"
        aria-label={label}
        title={label}
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen((was) => !was)}
      >
        {trigger}
      </button>
      {open && (
        <EmojiDialog
          id={id}
          label={label}
          placement={placement}
          onClose={() => close(true)}
          onPick={(emoji) => {
            onPick(emoji);
            if (focusAfterPick) {
              setOpen(false);
              focusAfterPick();
            } else close(true);
          }}
        />
      )}
    </div>
  );
}

function EmojiDialog({
  id,
  label,
  placement,
  onClose,
  onPick,
}: {
  id: string;
  label: string;
  placement: "above" | "below";
  onClose: () => void;
  onPick: (emoji: string) => void;
}) {
  const [query, setQuery] = useState("");
  const [active, setActive] = useState(0);
  const grid = useRef<HTMLUListElement>(null);
  const search = useRef<HTMLInputElement>(null);
  const found = searchEmoji(query);
  const current = Math.min(active, Math.max(found.length - 1, 0));

  useEffect(() => search.current?.focus(), []);

  const focusCell = (index: number) => {
    const clamped = Math.max(0, Math.min(index, found.length - 1));
    setActive(clamped);
    grid.current?.querySelectorAll<HTMLButtonElement>("button")[clamped]?.focus();
  };

  const onDialogKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      onClose();
    }
  };

  const onSearchKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "ArrowDown" && found.length > 0) {
      event.preventDefault();
      focusCell(0);
    } else if (event.key === "Enter") {
      // Enter in the search field picks the best match, as Slack's picker does.
      event.preventDefault();
      const first = found[0];
      if (first) onPick(first.char);
    }
  };

  const onGridKeyDown = (event: KeyboardEvent<HTMLUListElement>) => {
    const moves: Record<string, number> = {
      ArrowRight: current + 1,
      ArrowLeft: current - 1,
      ArrowDown: current + COLUMNS,
      ArrowUp: current - COLUMNS,
      Home: 0,
      End: found.length - 1,
    };
    const target = moves[event.key];
    if (target === undefined) return;
    event.preventDefault();
    if (event.key === "ArrowUp" && current < COLUMNS) search.current?.focus();
    else focusCell(target);
  };

  return (
    <div
      id={id}
      role="dialog"
      aria-label={label}
      className={`emoji-dialog emoji-dialog-${placement}`}
      onKeyDown={onDialogKeyDown}
    >
      <label htmlFor={`${id}-search`} className="visually-hidden">
        Search emoji
      </label>
      <input
        ref={search}
        id={`${id}-search`}
        type="search"
        placeholder="Search emoji"
        autoComplete="off"
        value={query}
        onChange={(event) => {
          setQuery(event.target.value);
          setActive(0);
        }}
        onKeyDown={onSearchKeyDown}
      />
      {/* Announced as the search narrows: how many match, or that none do. */}
      <p role="status" className="visually-hidden">
        {found.length === 0 ? `No emoji match “${query.trim()}”` : `${found.length} emoji`}
      </p>
      {found.length === 0 ? (
        <p className="muted emoji-empty" aria-hidden="true">
          No emoji match.
        </p>
      ) : (
        <ul ref={grid} className="emoji-grid" aria-label="Emoji" onKeyDown={onGridKeyDown}>
          {found.map((emoji: Emoji, index) => (
            <li key={emoji.char}>
              <button
                type="button"
                className="emoji-cell"
                aria-label={emoji.name}
                title={emoji.name}
                tabIndex={index === current ? 0 : -1}
                onFocus={() => setActive(index)}
                onClick={() => onPick(emoji.char)}
              >
                {emoji.char}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
