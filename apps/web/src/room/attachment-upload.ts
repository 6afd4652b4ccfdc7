/** The types the server accepts (the contract of issue 15); anything else is refused before asking. */
const ALLOWED_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "application/pdf",
  "text/plain",
]);

/** At most this many files on one message, as `chat.messages.send` allows. */
export const MAX_ATTACHMENTS = 10;

/**
 * The type to declare for a file, or null when it cannot be sent. The server detects the real
 * type from the bytes and refuses a mismatch; this only saves a round trip for what it would
 * refuse anyway. Any text/* (Markdown, CSV, source) is declared as plain text, which is what
 * the server will find in it; a file the browser cannot name (no extension) is tried as text.
 */
export function declaredType(file: Pick<File, "type">): string | null {
  const type = file.type.toLowerCase();
  if (type === "") return "text/plain";
  if (ALLOWED_TYPES.has(type)) return type;
  if (type.startsWith("text/") && type !== "text/html") return "text/plain";
  return null;
}

const sizeFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1 KB = 1024 bytes, as file managers show sizes. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${sizeFormat.format(bytes / 1024)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${sizeFormat.format(bytes / (1024 * 1024))} MB`;
  return `${sizeFormat.format(bytes / (1024 * 1024 * 1024))} GB`;
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
