/** Domain outcomes of the chat services; errors.ts maps them to tRPC codes. */
export class ChatError extends Error {
  constructor(
    readonly reason: "not-found" | "forbidden" | "conflict" | "invalid",
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ChatError";
  }
}

export const roomNotFound = () => new ChatError("not-found", "No such room");
export const messageNotFound = () => new ChatError("not-found", "No such message");
