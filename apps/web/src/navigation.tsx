import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from "react";

// A router small enough to read: history.pushState plus a popstate listener. The server
// answers every page path with index.html, so any of these URLs can be opened directly.

const NAVIGATED = "parley:navigated";

function subscribe(listener: () => void) {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

const currentHref = () => window.location.pathname + window.location.search;

/** The current path and query, re-rendering on navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, currentHref);
  const url = new URL(href, window.location.origin);
  return { path: url.pathname, query: url.searchParams };
}

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** A real link (opens in a new tab, copies, works without JS) that navigates in place on a plain click. */
export function Link({ to, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handleClick = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={handleClick} {...rest} />;
}

/** The `:name` segments of a pattern, as a union of names. */
type ParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | ParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

/** Matches "/rooms/:roomId"-style patterns; the named segments, or null. */
export function matchPath<P extends string>(pattern: P, path: string): Record<ParamNames<P>, string> | null {
  const want = pattern.split("/");
  const have = (path.length > 1 ? path.replace(/\/$/, "") : path).split("/");
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (const [index, segment] of want.entries()) {
    const actual = have[index] ?? "";
    if (segment.startsWith(":")) {
      if (!actual) return null;
      params[segment.slice(1)] = decodeURIComponent(actual);
    } else if (segment !== actual) return null;
  }
  return params as Record<ParamNames<P>, string>;
}

/**
 * A link in a navigation bar: marked as the current page (aria-current, which the style shows)
 * while the path is `section` or below it.
 */
export function NavLink({ section, ...rest }: Parameters<typeof Link>[0] & { section?: string }) {
  const { path } = useLocation();
  const prefix = section ?? rest.to;
  const current = path === prefix || path.startsWith(`${prefix}/`);
  return <Link aria-current={current ? "page" : undefined} {...rest} />;
}
