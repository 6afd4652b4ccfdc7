import { sendMessageInput } from "@parley/api/schemas"; // the zod inputs: safe in a browser bundle
import { createParleyClient } from "@parley/client";
import { render, showReconnecting } from "./ui.ts";

// Same origin: the session cookie authenticates HTTP and the WebSocket, so there is no token to keep.
const parley = createParleyClient({ url: location.origin, onSocketClose: showReconnecting });
await parley.auth.login.mutate({ email: "ada@example.com", password: "correct horse battery staple" });
const roomId = (await parley.chat.rooms.list.query({})).items[0]?.id ?? "";
parley.chat.events.subscribe({ roomId }, { onData: ({ data }) => render(data) }); // resumes by itself
const input = sendMessageInput.safeParse({ roomId, content: "Hello!", clientMessageId: crypto.randomUUID() });
if (input.success) await parley.chat.messages.send.mutate(input.data);
