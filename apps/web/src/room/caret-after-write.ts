import { type RefObject, useLayoutEffect, useRef } from "react";

/**
 * Places a text field's caret after a value this component writes (an inserted @-handle or
 * emoji), once React has written it: setting the caret earlier would be undone, since a
 * controlled field's new value puts the caret at its end. Done in a layout effect, so in the same
 * task as the key or click that made the change. At the next animation frame instead, keys typed
 * before a late frame (a busy page) had the caret jump back in between them, and the next keys
 * landed out of order.
 *
 * Returns `placeCaret(position)`, to call beside the state update that writes the new value; the
 * value must differ from the current one (an unchanged value renders nothing, and the caret would
 * wait for the next change).
 */
export function useCaretAfterWrite(box: RefObject<HTMLTextAreaElement | null>): (position: number) => void {
  const pending = useRef<number | null>(null);
  // After every render: a ref check.
  useLayoutEffect(() => {
    const position = pending.current;
    const field = box.current;
    if (position === null || !field) return;
    pending.current = null;
    field.setSelectionRange(position, position);
  });
  return (position) => {
    pending.current = position;
  };
}
