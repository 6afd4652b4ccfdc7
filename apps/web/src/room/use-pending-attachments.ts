import { type AttachmentType, MAX_ATTACHMENTS_PER_MESSAGE as MAX_ATTACHMENTS } from "@parley/api/schemas";
import { TRPCClientError } from "@parley/client";
import { useEffect, useRef, useState } from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { useTRPCClient } from "../parley.ts";
import { declaredType, putFile, UploadAborted } from "./attachment-upload.ts";

export interface PendingAttachment {
  /** Local key: the attachment id exists only once `chat.attachments.create` answered. */
  key: number;
  name: string;
  size: number;
  /** 0 to 1 while the bytes travel. */
  progress: number;
  attachmentId: string | null;
  done: boolean;
}

/**
 * The files a draft carries: each is announced (`chat.attachments.create`, which checks
 * membership, size, type and quota), then its bytes are PUT with progress. A refusal removes the
 * file and reports one line through `onError`; removing a file aborts its upload (the server
 * sweeps an upload never sent). `onChange` runs whenever the set changes: a different set of files
 * is a different message, so the draft's clientMessageId must not be reused.
 */
export function usePendingAttachments({
  roomId,
  onError,
  onChange,
}: {
  roomId: string;
  onError: (message: string) => void;
  onChange: () => void;
}) {
  const client = useTRPCClient();
  const [items, setItems] = useState<PendingAttachment[]>([]);
  const nextKey = useRef(0);
  const uploads = useRef(new Map<number, AbortController>());

  // Leaving the room (or closing the thread) stops the uploads still running.
  useEffect(() => {
    const running = uploads.current;
    return () => {
      for (const controller of running.values()) controller.abort();
      running.clear();
    };
  }, []);

  const update = (key: number, change: Partial<PendingAttachment>) =>
    setItems((current) => current.map((item) => (item.key === key ? { ...item, ...change } : item)));
  const drop = (key: number) => {
    uploads.current.get(key)?.abort();
    uploads.current.delete(key);
    setItems((current) => current.filter((item) => item.key !== key));
  };

  const upload = async (key: number, file: File, contentType: AttachmentType, signal: AbortSignal) => {
    try {
      const created = await client.chat.attachments.create.mutate(
        { roomId, name: file.name, size: file.size, contentType },
        { signal },
      );
      update(key, { attachmentId: created.attachmentId });
      await putFile(created.uploadUrl, file, (progress) => update(key, { progress }), signal);
      uploads.current.delete(key);
      update(key, { progress: 1, done: true });
    } catch (error) {
      if (signal.aborted || error instanceof UploadAborted) return;
      drop(key);
      // A refused announcement names its field (contentType) or the whole request (size, quota).
      const said =
        error instanceof TRPCClientError || !(error instanceof Error)
          ? (Object.values(serverErrors(error))[0] ?? "The upload failed. Try again.")
          : error.message;
      onError(`${file.name}: ${said}`);
    }
  };

  const add = (files: Iterable<File>) => {
    const chosen = [...files];
    if (chosen.length === 0) return;
    const room = MAX_ATTACHMENTS - items.length;
    if (chosen.length > room) {
      onError(`A message can carry at most ${MAX_ATTACHMENTS} files.`);
      chosen.splice(Math.max(room, 0));
    }
    const refused = chosen.filter((file) => declaredType(file) === null);
    if (refused.length > 0) {
      onError(
        `${refused.map((file) => file.name).join(", ")}: only images (PNG, JPEG, GIF, WebP), PDFs and plain text can be attached.`,
      );
    }
    const added: PendingAttachment[] = [];
    for (const file of chosen) {
      const contentType = declaredType(file);
      if (contentType === null) continue;
      const key = nextKey.current++;
      const controller = new AbortController();
      uploads.current.set(key, controller);
      added.push({ key, name: file.name, size: file.size, progress: 0, attachmentId: null, done: false });
      void upload(key, file, contentType, controller.signal);
    }
    if (added.length === 0) return;
    setItems((current) => [...current, ...added]);
    onChange();
  };

  const remove = (key: number) => {
    drop(key);
    onChange();
  };

  /** After a send: the files went with the message. */
  const clear = () => setItems([]);

  return {
    items,
    add,
    remove,
    clear,
    uploading: items.some((item) => !item.done),
    attachmentIds: items.flatMap((item) => (item.done && item.attachmentId ? [item.attachmentId] : [])),
  };
}

export type PendingAttachments = ReturnType<typeof usePendingAttachments>;
