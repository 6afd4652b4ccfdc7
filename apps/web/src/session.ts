import type { RouterOutputs } from "@parley/client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useCallback } from "react";
import { useTRPC } from "./parley.ts";

export type Me = NonNullable<RouterOutputs["auth"]["me"]>;

/** The signed-in user: undefined while loading, null when signed out. */
export function useMe(): Me | null | undefined {
  const trpc = useTRPC();
  const me = useQuery({ ...trpc.auth.me.queryOptions(), staleTime: 60_000 });
  return me.data;
}

/**
 * After signing in or out every cached answer belongs to someone else: drop them all, so no
 * page shows the previous user's rooms for a moment.
 */
export function useSessionChanged() {
  const queryClient = useQueryClient();
  return useCallback(() => queryClient.resetQueries(), [queryClient]);
}
