import { ATTACHMENT_TYPES, type AttachmentType } from "@parley/api/schemas";

const isAllowed = (type: string): type is AttachmentType =>
  (ATTACHMENT_TYPES as readonly string[]).includes(type);

/**
 * The type to declare for a file, or null when it cannot be sent. The server detects the real
 * type from the bytes and refuses a mismatch; this only saves a round trip for what it would
 * refuse anyway. Any text/* (Markdown, CSV, source) is declared as plain text, which is what
 * the server will find in it; a file the browser cannot name (no extension) is tried as text.
 */
export function declaredType(file: Pick<File, "type">): AttachmentType | null {
  const type = file.type.toLowerCase();
  if (type === "") return "text/plain";
  if (isAllowed(type)) return type;
  if (type.startsWith("text/") && type !== "text/html") return "text/plain";
  return null;
}

/** What the server says about a refused upload, in the words the rest of the app uses. */
function refusal(status: number, body: string): string {
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "message" in parsed) {
      message = typeof parsed.message === "string" ? parsed.message : undefined;
    }
  } catch {
    // Not the REST error shape (a proxy's page, say): the status decides the words.
  }
  if (status === 413) return message ?? "The file is too large.";
  if (status === 415) return message ?? "This kind of file cannot be attached.";
  if (status === 0) return "Cannot reach the server. Check your connection and try again.";
  return message ?? "The upload failed. Try again.";
}

export class UploadAborted extends Error {
  constructor() {
    super("upload aborted");
  }
}

/**
 * PUTs a file's bytes to the upload URL `chat.attachments.create` returned. XMLHttpRequest, not
 * fetch: only it reports upload progress in every browser. Same origin, so the session cookie
 * authenticates and the browser sends the Origin header the server checks.
 */
export function putFile(
  uploadUrl: string,
  file: Blob,
  onProgress: (fraction: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("PUT", uploadUrl);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new Error(refusal(request.status, request.responseText)));
    };
    request.onerror = () => reject(new Error(refusal(0, "")));
    request.onabort = () => reject(new UploadAborted());
    signal.addEventListener("abort", () => request.abort(), { once: true });
    request.send(file);
  });
}
