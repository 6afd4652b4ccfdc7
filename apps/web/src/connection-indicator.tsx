import { useConnectionStatus } from "./connection-status.ts";
import { useParley } from "./parley.ts";

const LABELS = {
  idle: "",
  connecting: "Connecting…",
  connected: "Live",
  reconnecting: "Reconnecting…",
} as const;

/** The live connection's state, announced politely when it changes (role=status). */
export function ConnectionIndicator() {
  const { connection } = useParley();
  const status = useConnectionStatus(connection);
  return (
    <p role="status" className={`connection connection-${status}`} data-status={status}>
      {LABELS[status]}
    </p>
  );
}
