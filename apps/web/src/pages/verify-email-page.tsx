import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";
import { useTRPC } from "../parley.ts";
import { useMe } from "../session.ts";

/** Where the emailed link lands (/verify-email?token=…); without a token, offers a new email. */
export function VerifyEmailPage({ token }: { token: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useMe();
  const verify = useMutation(
    trpc.auth.verifyEmail.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
    }),
  );
  const resend = useMutation(trpc.auth.resendVerification.mutationOptions());
  // The token is single-use: it is sent once per page, not again on a re-render.
  const sent = useRef(false);
  useEffect(() => {
    if (!token || sent.current) return;
    sent.current = true;
    verify.mutate({ token });
  }, [token, verify]);

  return (
    <Page title="Verify your email">
      <div role="status">
        {token && verify.isPending && <p>Checking your link…</p>}
        {verify.isSuccess && (
          <p className="notice">
            Your email address is verified. <Link to="/rooms">Go to your rooms</Link>.
          </p>
        )}
        {verify.isError && (
          <p className="form-error">{serverErrors(verify.error)[""] ?? "This link does not work."}</p>
        )}
        {resend.isSuccess && <p className="notice">We sent you a new link.</p>}
      </div>
      {!token && me?.emailVerified && <p>Your email address is already verified.</p>}
      {!token && me === null && (
        <p>
          Open the link from the email we sent you, or <Link to="/sign-in?next=/verify-email">sign in</Link>{" "}
          to get a new one.
        </p>
      )}
      {(verify.isError || (!token && me && !me.emailVerified)) && me && (
        <button type="button" onClick={() => resend.mutate()} disabled={resend.isPending}>
          Send a new verification email
        </button>
      )}
    </Page>
  );
}
