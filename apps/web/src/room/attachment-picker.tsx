import { type ClipboardEvent, type DragEvent, useRef } from "react";
import { formatSize } from "./attachment-sizes.ts";
import type { PendingAttachments } from "./use-pending-attachments.ts";

/**
 * The composer's "Attach" button: a real button opening a hidden file input, so it takes focus
 * and a name like the emoji button beside it. `id` keeps the input unique when the room's and
 * the thread's composers are both on screen.
 */
export function AttachButton({ id, attachments }: { id: string; attachments: PendingAttachments }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <button
        type="button"
        className="attach-trigger"
        aria-label="Attach files"
        title="Attach files (or drop or paste them here)"
        onClick={() => input.current?.click()}
      >
        <span aria-hidden="true">📎</span>
      </button>
      <input
        ref={input}
        id={id}
        type="file"
        multiple
        hidden
        accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.md,.csv,.log"
        onChange={(event) => {
          if (event.target.files) attachments.add(event.target.files);
          // The same file chosen again must fire a change.
          event.target.value = "";
        }}
      />
    </>
  );
}

/** The files of a draft: each with its progress while it uploads, and a button to take it off. */
export function PendingAttachmentList({ attachments }: { attachments: PendingAttachments }) {
  if (attachments.items.length === 0) return null;
  return (
    <ul className="pending-attachments" aria-label="Files to send">
      {attachments.items.map((item) => (
        <li key={item.key} className="attachment-chip pending">
          <span className="attachment-name">{item.name}</span>{" "}
          <span className="muted attachment-size">{formatSize(item.size)}</span>
          {item.done ? (
            <span className="visually-hidden">, uploaded</span>
          ) : (
            <progress
              value={Math.round(item.progress * 100)}
              max={100}
              aria-label={`Uploading ${item.name}`}
            />
          )}
          <button
            type="button"
            className="link-button attachment-remove"
            aria-label={`Remove ${item.name}`}
            onClick={() => attachments.remove(item.key)}
          >
            <span aria-hidden="true">✕</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

/** Drop and paste on a composer's form: files dropped on it or pasted into its box are attached. */
export function fileDropProps(attachments: PendingAttachments) {
  const hasFiles = (event: DragEvent) => event.dataTransfer.types.includes("Files");
  return {
    onDragOver: (event: DragEvent<HTMLFormElement>) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    },
    onDrop: (event: DragEvent<HTMLFormElement>) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      attachments.add(event.dataTransfer.files);
    },
    onPaste: (event: ClipboardEvent<HTMLFormElement>) => {
      // Pasted text stays text (an office app copies a picture of the text along with it); only a
      // paste of files alone (a screenshot, a file copied in a file manager) attaches.
      const clipboard = event.clipboardData;
      if (clipboard.files.length === 0 || clipboard.types.includes("text/plain")) return;
      event.preventDefault();
      attachments.add(clipboard.files);
    },
  };
}
