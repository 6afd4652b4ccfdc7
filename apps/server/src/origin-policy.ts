import type { IncomingMessage } from "node:http";

export type OriginPolicy = ReturnType<typeof createOriginPolicy>;

/**
 * Which browser origins may call us with credentials: the public origin, the listed ones,
 * and same-origin requests (Origin equal to the Host the request was sent to).
 */
export function createOriginPolicy(publicOrigin: string, allowedOrigins: string[]) {
  const allowed = new Set([publicOrigin, ...allowedOrigins]);
  return {
    allowed,
    isAllowed(origin: string, host: string | undefined): boolean {
      if (allowed.has(origin)) return true;
      if (!host) return false;
      try {
        const url = new URL(origin);
        return (url.protocol === "http:" || url.protocol === "https:") && url.host === host;
      } catch {
        return false;
      }
    },
    /**
     * For state-changing requests and WebSocket upgrades. A foreign Origin is always refused.
     * Without Origin, a request carrying the session cookie must show an allowed Referer;
     * one without cookie is a tool using a bearer token, which a browser cannot forge.
     */
    admits(req: IncomingMessage, sessionCookieName: string): boolean {
      const origin = req.headers.origin;
      if (origin !== undefined) return this.isAllowed(origin, req.headers.host);
      const cookie = req.headers.cookie ?? "";
      if (!cookie.includes(`${sessionCookieName}=`)) return true;
      const referer = req.headers.referer;
      if (!referer) return false;
      try {
        return this.isAllowed(new URL(referer).origin, req.headers.host);
      } catch {
        return false;
      }
    },
  };
}

/**
 * What a log line says about a refused Origin: the origin (or the Referer's, for a request
 * without Origin), cut short; never the rest of the Referer (a path may hold a token) or the cookie.
 */
export function refusedOriginFields(headers: { origin?: string; referer?: string }) {
  let refererOrigin: string | undefined;
  if (headers.origin === undefined && headers.referer) {
    refererOrigin = URL.canParse(headers.referer) ? new URL(headers.referer).origin : "(malformed)";
  }
  return { origin: headers.origin?.slice(0, 200), refererOrigin: refererOrigin?.slice(0, 200) };
}
