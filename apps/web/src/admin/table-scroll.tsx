import type { ReactNode } from "react";

/**
 * A table that scrolls sideways inside its own box on a narrow screen, so the page never does.
 * A named region, reachable with Tab: keyboard users scroll it with the arrow keys.
 */
export function TableScroll({ captionId, children }: { captionId: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must take focus to be scrolled by keyboard.
    <section className="table-scroll" aria-labelledby={captionId} tabIndex={0}>
      {children}
    </section>
  );
}
