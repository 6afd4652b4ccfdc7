import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { useTRPC } from "../parley.ts";

/** Moves the read marker to the newest message seen while the page is visible. */
export function useMarkRead(roomId: string, member: boolean, newestSeq: number | null) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // The sidebar's and the directory's unread counts are stale once the marker moves.
  const markRead = useMutation(
    trpc.chat.rooms.markRead.mutationOptions({
      onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.chat.rooms.list.pathKey() }),
    }),
  );
  const marked = useRef(0);
  const { mutate } = markRead;
  useEffect(() => {
    if (!member || newestSeq === null || newestSeq <= marked.current) return;
    const timer = setTimeout(() => {
      if (document.visibilityState !== "visible") return;
      marked.current = newestSeq;
      mutate({ roomId, seq: newestSeq });
    }, 500);
    return () => clearTimeout(timer);
  }, [member, newestSeq, roomId, mutate]);
}
