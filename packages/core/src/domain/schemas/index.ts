// Zod inputs only: no server code, safe to bundle in a browser and reuse in forms.
export * from "./admin.ts";
export * from "./attachments.ts";
export * from "./audit.ts";
export * from "./auth.ts";
export * from "./chat.ts";
export * from "./dms.ts";
export * from "./forms.ts";
export * from "./mentions.ts";
export * from "./moderation.ts";
export { isCommonPassword, newPassword } from "./password.ts";
export {
  emailAddress,
  isWellFormedText,
  LONE_SURROGATE_MESSAGE,
  multiLine,
  noControlCharacters,
  singleLine,
} from "./text.ts";
export * from "./threads.ts";
export * from "./webhooks.ts";
