import { randomUUID } from "node:crypto";
import { defineCommand } from "../command.ts";
import { findRoom } from "../room-lookup.ts";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += String(chunk);
  return text;
}

export const send = defineCommand({
  details: [
    "ROOM is a room's id or its exact name. The words after it are the message; a single `-`",
    "reads the message from standard input (e.g. `git log -1 | parley send ops -`).",
  ].join("\n"),
  options: {},
  positionals: { min: 2, max: Number.POSITIVE_INFINITY },
  async run(ctx, _values, [roomArg = "", ...words]) {
    const { api } = await ctx.signedIn();
    const room = await findRoom(api, roomArg);
    const content = words.length === 1 && words[0] === "-" ? await readAll(ctx.io.stdin) : words.join(" ");
    const message = await api.chat.messages.send.mutate({
      roomId: room.id,
      content,
      // One id per invocation: the server's idempotency covers the HTTP client's own retries.
      clientMessageId: randomUUID(),
    });
    ctx.print(`Sent to ${room.name} (#${message.seq}).`);
  },
});
