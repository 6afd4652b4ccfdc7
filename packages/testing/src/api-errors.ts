import { TRPCClientError } from "@parley/client";

/** The tRPC error code a call rejected with. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error.data?.code;
    throw error;
  }
  throw new Error("expected the call to fail");
}

/** The field errors of a call that failed with BAD_REQUEST. */
export async function fieldErrorsOf(
  promise: Promise<unknown>,
): Promise<Record<string, string[] | undefined>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError && error.data?.code === "BAD_REQUEST") {
      return error.data.zodError?.fieldErrors ?? {};
    }
    throw error;
  }
  throw new Error("expected the call to fail");
}
