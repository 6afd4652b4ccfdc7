import { z } from "zod";
import { text, uuid } from "./text.ts";

// Not imported from chat.ts, which imports this file (for the send's attachmentIds).
const roomId = uuid("Is not a room id");

/**
 * The only types a file may have, detected from its bytes. HTML, SVG and anything else a browser
 * might run are not among them, so no stored file is ever a page on our origin.
 */
export const ATTACHMENT_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "text/plain",
] as const;
export type AttachmentType = (typeof ATTACHMENT_TYPES)[number];

/** The types a browser shows inline; every other file is served as a download. */
export const INLINE_IMAGE_TYPES: ReadonlySet<string> = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
]);

/** At most this many files on one message. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

export const FILE_NAME_MAX_LENGTH = 200;

// C0 and C1 controls, and the bidi embeddings, overrides and isolates that make
// "invoice\u202Egpj.exe" read as "invoiceexe.jpg".
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const UNSAFE_CHARACTERS = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * A file name fit to show and to put in a Content-Disposition header: the last segment of any
 * path (`/` or `\`), without control characters or bidi controls, NFC, without dots and spaces at
 * either end, at most 200 characters (cut before the extension, which is kept), "file" if
 * nothing is left. It is never used to build a path or a storage key.
 */
export function sanitiseFileName(raw: string): string {
  const base = raw.split(/[/\\]/).pop() ?? "";
  const cleaned = base
    .replace(UNSAFE_CHARACTERS, "")
    .normalize("NFC")
    .replace(/^[.\s]+|[.\s]+$/g, "");
  const characters = Array.from(cleaned);
  if (characters.length === 0) return "file";
  if (characters.length <= FILE_NAME_MAX_LENGTH) return cleaned;
  const dot = cleaned.lastIndexOf(".");
  const extension = dot > 0 ? Array.from(cleaned.slice(dot)) : [];
  // An "extension" of 20 characters or more is part of the name.
  const kept = extension.length > 0 && extension.length < 20 ? extension : [];
  const stem = characters
    .slice(0, FILE_NAME_MAX_LENGTH - kept.length)
    .join("")
    .replace(/[.\s]+$/, "");
  return `${stem}${kept.join("")}` || "file";
}

export const createAttachmentInput = z.object({
  roomId,
  /** The file's name as the user's device knows it; sanitised (see sanitiseFileName). */
  name: text().min(1, "Required").max(1000, "Must be at most 1000 characters").transform(sanitiseFileName),
  /** The exact length in bytes of what will be uploaded. */
  size: z.number().int().min(1, "An empty file cannot be attached").max(Number.MAX_SAFE_INTEGER),
  /** What the client believes the type is; the bytes must agree (an image declared, an image found). */
  contentType: z.enum(ATTACHMENT_TYPES, { error: `Must be one of ${ATTACHMENT_TYPES.join(", ")}` }),
});

export const attachmentIds = z
  .array(uuid("Is not an attachment id"))
  .max(MAX_ATTACHMENTS_PER_MESSAGE, `At most ${MAX_ATTACHMENTS_PER_MESSAGE} files on one message`)
  .refine((ids) => new Set(ids).size === ids.length, "The same file is listed twice");
