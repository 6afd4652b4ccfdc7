import { sendMessageInput } from "@parley/api/schemas";
import type { MessageView } from "@parley/client";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useRef, useState } from "react";
import { EmojiPicker } from "../emoji/emoji-picker.tsx";
import { serverErrors, validate } from "../forms/field-errors.ts";
import { useTRPC } from "../parley.ts";
import { AttachButton, fileDropProps, PendingAttachmentList } from "./attachment-picker.tsx";
import { useCaretAfterWrite } from "./caret-after-write.ts";
import { useMentionAutocomplete } from "./mention-autocomplete.tsx";
import { usePendingAttachments } from "./use-pending-attachments.ts";

const TYPING_EVERY_MS = 3_000;

/** 128 random bits as hex. Not crypto.randomUUID: that exists only in secure contexts. */
export function newClientMessageId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join(
    "",
  );
}

/**
 * The message box. A draft keeps its clientMessageId until it is sent: a retry after a failed
 * send (the server restarting, say) reuses it, and the server's idempotency turns a send that
 * did get through into the same message instead of a second copy.
 */
export function Composer({
  roomId,
  myId,
  onSent,
}: {
  roomId: string;
  myId: string;
  onSent: (message: MessageView) => void;
}) {
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  // A refused file: shown on the same line as a send's error, but the text itself is fine.
  const [fileError, setFileError] = useState<string | null>(null);
  const clientMessageId = useRef<string | null>(null);
  const lastTyping = useRef(0);
  const box = useRef<HTMLTextAreaElement>(null);
  const placeCaret = useCaretAfterWrite(box);
  const typing = useMutation(trpc.chat.typing.mutationOptions());
  const attachments = usePendingAttachments({
    roomId,
    onError: setFileError,
    onChange: () => {
      clientMessageId.current = null;
      setFileError(null);
    },
  });
  const send = useMutation(
    trpc.chat.messages.send.mutationOptions({
      onSuccess: (message) => {
        onSent(message);
        clientMessageId.current = null;
        setText("");
        attachments.clear();
        setError(null);
        setFileError(null);
      },
      onError: (e) => {
        const errors = serverErrors(e);
        setError(errors.content ?? errors.attachmentIds ?? errors[""] ?? "Not sent.");
      },
    }),
  );

  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    if (send.isPending) return;
    if (attachments.uploading) {
      setFileError("Wait for the files to finish uploading.");
      return;
    }
    clientMessageId.current ??= newClientMessageId();
    const attachmentIds = attachments.attachmentIds;
    const result = validate(sendMessageInput, {
      roomId,
      content: text,
      clientMessageId: clientMessageId.current,
      ...(attachmentIds.length > 0 && { attachmentIds }),
    });
    if ("errors" in result) {
      setError(result.errors.content ?? "This message cannot be sent.");
      return;
    }
    send.mutate(result.data);
  };

  const onChange = (value: string) => {
    setText(value);
    // Other text is another message: it must not be folded into a send that may have landed.
    clientMessageId.current = null;
    if (error) setError(null);
    const now = Date.now();
    if (value.trim() && now - lastTyping.current > TYPING_EVERY_MS) {
      lastTyping.current = now;
      typing.mutate({ roomId });
    }
  };

  // At the caret (replacing a selection), as typing it would.
  const insertEmoji = (emoji: string) => {
    const start = box.current?.selectionStart ?? text.length;
    const end = box.current?.selectionEnd ?? text.length;
    const next = text.slice(0, start) + emoji + text.slice(end);
    placeCaret(next, start + emoji.length);
    onChange(next);
  };
  const focusBox = () => box.current?.focus();

  const mentions = useMentionAutocomplete({
    id: "composer-mentions",
    roomId,
    myId,
    text,
    setText: onChange,
    box,
  });

  // Enter sends, Shift+Enter starts a new line, as in most chat apps; while the @-list is open,
  // Enter picks from it instead.
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (mentions.onKeyDown(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    }
  };

  return (
    <form className="composer with-mentions" onSubmit={submit} noValidate {...fileDropProps(attachments)}>
      <label htmlFor="composer-text" className="visually-hidden">
        Message
      </label>
      <textarea
        ref={box}
        id="composer-text"
        value={text}
        rows={2}
        placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
        onChange={(e) => {
          onChange(e.target.value);
          mentions.trackCaret(e.target);
        }}
        onSelect={(e) => mentions.trackCaret(e.currentTarget)}
        onKeyDown={onKeyDown}
        {...mentions.fieldProps}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "composer-error" : undefined}
      />
      {mentions.list}
      <AttachButton id="composer-files" attachments={attachments} />
      <EmojiPicker
        label="Insert an emoji"
        trigger="🙂"
        placement="above"
        onPick={insertEmoji}
        focusAfterPick={focusBox}
      />
      <button type="submit" disabled={send.isPending}>
        {error && clientMessageId.current ? "Send again" : "Send"}
      </button>
      <PendingAttachmentList attachments={attachments} />
      {(error ?? fileError) && (
        <p id="composer-error" role="alert" className="field-error">
          {error ?? fileError}
        </p>
      )}
    </form>
  );
}
