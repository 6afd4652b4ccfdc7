import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, type RefObject, useState } from "react";
import { useTRPC } from "../parley.ts";
import { useCaretAfterWrite } from "./caret-after-write.ts";
import { type MentionCandidate, mentionAt, mentionOptions } from "./mention-matching.ts";

/**
 * `@`-autocomplete of the room's members' handles for a textarea, after the ARIA combobox
 * pattern with the textarea as the text field: the list is a listbox it controls, the option
 * under the arrow keys is its `aria-activedescendant` (focus stays in the text). Arrow keys
 * move, Enter or Tab inserts `@handle `, Escape closes the list until the next `@`.
 */
export function useMentionAutocomplete({
  id,
  roomId,
  myId,
  text,
  setText,
  box,
}: {
  id: string;
  roomId: string;
  myId: string;
  text: string;
  setText: (text: string) => void;
  box: RefObject<HTMLTextAreaElement | null>;
}) {
  const trpc = useTRPC();
  const members = useQuery({ ...trpc.chat.rooms.members.queryOptions({ roomId }), staleTime: 60_000 });
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissedAt, setDismissedAt] = useState<number | null>(null);

  const at = mentionAt(text, caret);
  const options = at ? mentionOptions(members.data?.items ?? [], at.query, myId) : [];
  const open = at !== null && at.start !== dismissedAt && options.length > 0;
  const activeIndex = Math.min(active, options.length - 1);
  const optionId = (option: MentionCandidate) => `${id}-${option.userId}`;
  const activeOption = open ? options[activeIndex] : undefined;

  const placeCaret = useCaretAfterWrite(box);

  const choose = (option: MentionCandidate) => {
    if (!at) return;
    const inserted = `@${option.handle} `;
    const next = text.slice(0, at.start) + inserted + text.slice(caret);
    const position = at.start + inserted.length;
    placeCaret(next, position);
    setText(next);
    setCaret(position);
    setActive(0);
    box.current?.focus();
  };

  /** True when the key was the list's (the caller must not act on it too). */
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): boolean => {
    if (!open || !activeOption) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const step = event.key === "ArrowDown" ? 1 : -1;
      setActive((activeIndex + step + options.length) % options.length);
    } else if (event.key === "Enter" || event.key === "Tab") {
      choose(activeOption);
    } else if (event.key === "Escape") {
      setDismissedAt(at?.start ?? null);
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  };

  /** Reads where the caret is after every change, click and key. */
  const trackCaret = (field: HTMLTextAreaElement) => {
    setCaret(field.selectionStart);
    if (field.selectionStart !== caret) setActive(0);
  };

  return {
    onKeyDown,
    trackCaret,
    fieldProps: {
      "aria-autocomplete": "list" as const,
      "aria-controls": open ? id : undefined,
      "aria-activedescendant": activeOption ? optionId(activeOption) : undefined,
    },
    list: (
      <>
        {open && (
          <div id={id} role="listbox" aria-label="People to mention" className="mention-list">
            {options.map((option, index) => (
              // The keyboard reaches options through the text field (aria-activedescendant), so
              // they are focusable but outside the tab order; the mouse picks one without taking
              // focus from the text.
              <div
                key={option.userId}
                tabIndex={-1}
                id={optionId(option)}
                role="option"
                aria-selected={index === activeIndex}
                className="mention-option"
                onMouseDown={(event) => {
                  event.preventDefault();
                  choose(option);
                }}
              >
                @{option.handle} <span className="muted">{option.displayName}</span>
              </div>
            ))}
          </div>
        )}
        <p className="visually-hidden" role="status">
          {open
            ? `${options.length} ${options.length === 1 ? "person" : "people"} to mention: arrow keys to choose, Enter to insert.`
            : ""}
        </p>
      </>
    ),
  };
}
