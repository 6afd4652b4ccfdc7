import { skipToken } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect, useState } from "react";
import { useTRPC } from "../parley.ts";

function names(users: { displayName: string }[]) {
  return users.map((u) => u.displayName).join(", ");
}

/**
 * Who is online and who is typing (members only: the server refuses presence to others).
 * Someone whose message arrived after the latest snapshot has stopped typing, even though the
 * server's typing flag runs for a few seconds more.
 */
export function PresenceBar({
  roomId,
  member,
  myId,
  spokeAt,
}: {
  roomId: string;
  member: boolean;
  myId: string;
  spokeAt: ReadonlyMap<string, number>;
}) {
  const trpc = useTRPC();
  const presence = useSubscription(trpc.chat.presence.subscriptionOptions(member ? { roomId } : skipToken));
  const snapshot = presence.data;
  const [snapshotAt, setSnapshotAt] = useState(0);
  useEffect(() => {
    if (snapshot) setSnapshotAt(performance.now());
  }, [snapshot]);
  const typing =
    snapshot?.typing.filter((u) => u.userId !== myId && (spokeAt.get(u.userId) ?? 0) < snapshotAt) ?? [];
  return (
    <div className="presence">
      <p className="muted">{snapshot ? `Online: ${names(snapshot.online) || "nobody"}` : ""}</p>
      <p className="typing" aria-live="polite">
        {typing.length === 0 ? "" : `${names(typing)} ${typing.length === 1 ? "is" : "are"} typing…`}
      </p>
    </div>
  );
}
