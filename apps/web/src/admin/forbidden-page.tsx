import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { errorCode, useTRPC } from "../parley.ts";

/**
 * What a signed-in user who is not an admin sees at any /admin address: no filters, no failed
 * request, one plain sentence. Also shown when the server refuses an admin page's data (the role
 * was taken away while the page was open): the user is read again, so the navigation follows.
 */
export function ForbiddenPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useEffect(() => {
    void queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() });
  }, [queryClient, trpc]);
  return (
    <Page title="Admins only">
      <p>This page is for Parley's administrators, and your account is not one.</p>
      <p>
        If you need it, ask an admin to give you the admin role. <Link to="/rooms">Go to your rooms</Link>.
      </p>
    </Page>
  );
}

/** The server's refusal of an admin procedure to someone who is not (or no longer) an admin. */
export const isForbidden = (error: unknown) => errorCode(error) === "FORBIDDEN";
