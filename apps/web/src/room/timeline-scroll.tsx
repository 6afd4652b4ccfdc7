import { type RefObject, useEffect, useLayoutEffect, useRef } from "react";

/** How close to the bottom (px) still counts as "reading the newest": new messages keep it in view. */
const STICKY_BOTTOM_PX = 80;

/**
 * Scrolling for a chat log: starts at the bottom, follows new messages while the reader is at
 * the bottom, and keeps the visible messages in place when older ones are added above.
 */
export function useTimelineScroll(count: number) {
  const ref = useRef<HTMLDivElement>(null);
  const topRef = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const anchor = useRef<number | null>(null);

  useLayoutEffect(() => {
    const element = ref.current;
    if (!element || count === 0) return;
    if (anchor.current !== null) {
      element.scrollTop = element.scrollHeight - anchor.current;
      anchor.current = null;
    } else if (atBottom.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [count]);

  return {
    ref,
    topRef,
    onScroll() {
      const element = ref.current;
      if (!element) return;
      atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < STICKY_BOTTOM_PX;
    },
    keepPosition(load: () => Promise<unknown>) {
      const element = ref.current;
      if (element) anchor.current = element.scrollHeight - element.scrollTop;
      void load();
    },
  };
}

/** Calls onVisible when the target (the top of the list) scrolls into view: older messages load. */
export function AutoLoadOlder({
  target,
  root,
  onVisible,
}: {
  target: RefObject<HTMLElement | null>;
  root: RefObject<HTMLElement | null>;
  onVisible: () => void;
}) {
  const callback = useRef(onVisible);
  callback.current = onVisible;
  useEffect(() => {
    const element = target.current;
    if (!element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) callback.current();
      },
      { root: root.current, rootMargin: "200px 0px 0px 0px" },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [target, root]);
  return null;
}
