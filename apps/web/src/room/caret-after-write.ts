import { type RefObject, useLayoutEffect, useRef } from "react";

/**
 * Places a text field's caret after a value this component writes (an inserted @-handle or
 * emoji), once React has written it: setting the caret earlier would be undone, since a
 * controlled field's new value puts the caret at its end. Done in a layout effect, so in the same
 * task as the key or click that made the change. At the next animation frame instead, keys typed
 * before a late frame (a busy page) had the caret jump back in between them, and the next keys
 * landed out of order.
 *
 * Returns `placeCaret(value, position)`, to call beside the state update that writes `value`. A
 * value the field already holds renders nothing new, so its caret is placed at once.
 */
export function useCaretAfterWrite(
  box: RefObject<HTMLTextAreaElement | null>,
): (value: string, position: number) => void {
  const pending = useRef<number | null>(null);
  // After every render: a ref check.
  useLayoutEffect(() => {
    const position = pending.current;
    const field = box.current;
    if (position === null || !field) return;
    pending.current = null;
    field.setSelectionRange(position, position);
  });
  return (value, position) => {
    if (box.current?.value === value) box.current.setSelectionRange(position, position);
    else pending.current = position;
  };
}
