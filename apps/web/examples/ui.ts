import type { RoomEvent } from "@parley/client";

// The page side of the README's example (frontend-client.ts), kept apart so the example stays short.

export function render(event: RoomEvent) {
  if (event.type !== "message.created") return;
  const item = document.createElement("li");
  item.textContent = `${event.message.authorName}: ${event.message.content ?? ""}`;
  document.querySelector("#messages")?.append(item);
}

export function showReconnecting() {
  document.title = "Reconnecting…";
}
