import {
  type FormEvent,
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
  type TextareaHTMLAttributes,
  useEffect,
  useRef,
  useState,
} from "react";
import { serverErrors } from "../forms/field-errors.ts";
import { AttachButton, fileDropProps, PendingAttachmentList } from "./attachment-picker.tsx";
import { useMentionAutocomplete } from "./mention-autocomplete.tsx";
import { MessageAttachments } from "./message-attachments.tsx";
import type { ListedMessage } from "./timeline-state.ts";
import { usePendingAttachments } from "./use-pending-attachments.ts";

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/**
 * The right-hand pane of a thread (full screen on a phone, with a back button). It draws what
 * it is given and asks for nothing itself, so that wiring threads is a matter of data:
 * - `root`: the message the thread hangs from, as the room's timeline holds it;
 * - `replies`: the thread's messages, oldest first (from `chat.threads.*` once it exists; an
 *   empty list until then, which shows the root alone);
 * - `roomId`: the room the thread is in (replies' files are uploaded to it);
 * - `onReply`: sends a reply (its text and uploaded files) with `parentId = root.id`; absent, the
 *   composer says replies are not available yet instead of pretending to send;
 * - `onClose`: the pane is closed (focus goes back where the room page says);
 * - `follow`: whether the reader follows the thread, and the button that changes it;
 * - `mentions`: the room and reader, for the reply box's @-autocomplete;
 * - `status`: a word while the replies load or when they cannot be read.
 */
export function ThreadPane({
  roomId,
  root,
  replies,
  onReply,
  onClose,
  follow,
  mentions,
  status,
}: {
  roomId: string;
  root: ListedMessage;
  replies: readonly ListedMessage[];
  onReply?: ReplyHandler;
  onClose: () => void;
  follow?: { following: boolean; pending: boolean; onToggle: () => void };
  mentions?: { roomId: string; myId: string };
  status?: string;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  // Opening a thread is a move to another part of the screen: focus follows, as for a page.
  useEffect(() => heading.current?.focus(), []);

  return (
    <section
      className="thread-pane"
      aria-labelledby="thread-heading"
      onKeyDown={(event) => {
        if (event.key === "Escape" && !event.defaultPrevented) onClose();
      }}
    >
      <div className="thread-head">
        <button type="button" className="link-button thread-back" onClick={onClose}>
          <span className="phone-only">← Back to the room</span>
          <span className="desktop-only">Close thread</span>
        </button>
        <h2 id="thread-heading" ref={heading} tabIndex={-1}>
          Thread
        </h2>
      </div>
      {follow && (
        <p className="thread-follow">
          <button
            type="button"
            className="secondary"
            aria-pressed={follow.following}
            disabled={follow.pending}
            onClick={follow.onToggle}
          >
            Follow thread
          </button>{" "}
          <span className="muted">
            {follow.following ? "You get unread counts for new replies." : "Replying follows it too."}
          </span>
        </p>
      )}
      <ol className="messages thread-messages" aria-label="Thread messages">
        <ThreadMessage message={root} />
        {replies.map((reply) => (
          <ThreadMessage key={reply.id} message={reply} />
        ))}
      </ol>
      <p className="muted">
        {status ??
          (replies.length === 0
            ? "No replies yet."
            : `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`)}
      </p>
      {mentions ? (
        <ThreadComposerWithMentions onReply={onReply} {...mentions} />
      ) : (
        <ThreadComposer onReply={onReply} roomId={roomId} />
      )}
    </section>
  );
}

function ThreadMessage({ message }: { message: ListedMessage }) {
  const deleted = message.deletedAt !== null;
  return (
    <li className="message group-start" data-message-id={message.id}>
      <p className="message-meta">
        <strong>{message.authorName}</strong>{" "}
        <time dateTime={message.createdAt}>{timeFormat.format(new Date(message.createdAt))}</time>
      </p>
      {deleted ? (
        <p className="message-body tombstone">Message deleted</p>
      ) : (
        <div className="message-content">
          {message.content && <p className="message-body">{message.content}</p>}
          {message.editedAt && <span className="muted edited-marker">(edited)</span>}
          <MessageAttachments attachments={message.attachments} />
        </div>
      )}
    </li>
  );
}

type ReplyHandler = (content: string, attachmentIds: string[]) => Promise<void>;

function ThreadComposerWithMentions({
  onReply,
  roomId,
  myId,
}: {
  onReply: ReplyHandler | undefined;
  roomId: string;
  myId: string;
}) {
  const [text, setText] = useState("");
  const box = useRef<HTMLTextAreaElement>(null);
  const mentions = useMentionAutocomplete({ id: "thread-mentions", roomId, myId, text, setText, box });
  return (
    <ThreadComposer
      onReply={onReply}
      roomId={roomId}
      text={text}
      setText={setText}
      box={box}
      extras={mentions.list}
      fieldProps={mentions.fieldProps}
      onKeyDown={mentions.onKeyDown}
      trackCaret={mentions.trackCaret}
    />
  );
}

function ThreadComposer({
  onReply,
  roomId,
  text: givenText,
  setText: givenSetText,
  box,
  extras,
  fieldProps,
  onKeyDown,
  trackCaret,
}: {
  onReply: ReplyHandler | undefined;
  roomId: string;
  text?: string;
  setText?: (text: string) => void;
  box?: RefObject<HTMLTextAreaElement | null>;
  extras?: ReactNode;
  fieldProps?: TextareaHTMLAttributes<HTMLTextAreaElement>;
  onKeyDown?: (event: KeyboardEvent<HTMLTextAreaElement>) => boolean;
  trackCaret?: (field: HTMLTextAreaElement) => void;
}) {
  const [ownText, setOwnText] = useState("");
  const text = givenText ?? ownText;
  const setText = givenSetText ?? setOwnText;
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // OpenThread keys its retry on the text and files, so nothing here needs to reset on change.
  const attachments = usePendingAttachments({ roomId, onError: setError, onChange: () => {} });
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const attachmentIds = attachments.attachmentIds;
    if (!onReply || sending) return;
    if (attachments.uploading) {
      setError("Wait for the files to finish uploading.");
      return;
    }
    if (!text.trim() && attachmentIds.length === 0) return;
    setSending(true);
    try {
      await onReply(text, attachmentIds);
      setText("");
      attachments.clear();
      setError(null);
    } catch (e) {
      const errors = serverErrors(e);
      setError(errors.content ?? errors.attachmentIds ?? errors[""] ?? "Not sent.");
    } finally {
      setSending(false);
    }
  };
  return (
    <form
      className="composer thread-composer with-mentions"
      onSubmit={submit}
      noValidate
      {...(onReply && fileDropProps(attachments))}
    >
      <label htmlFor="thread-reply" className="visually-hidden">
        Reply
      </label>
      <textarea
        ref={box}
        id="thread-reply"
        rows={2}
        value={text}
        placeholder="Reply in the thread"
        disabled={!onReply}
        {...fieldProps}
        aria-describedby={onReply ? undefined : "thread-unavailable"}
        onChange={(e) => {
          setText(e.target.value);
          trackCaret?.(e.target);
        }}
        onSelect={(e) => trackCaret?.(e.currentTarget)}
        onKeyDown={(e) => {
          onKeyDown?.(e);
        }}
      />
      {extras}
      {onReply && <AttachButton id="thread-files" attachments={attachments} />}
      <button type="submit" disabled={!onReply || sending}>
        Reply
      </button>
      <PendingAttachmentList attachments={attachments} />
      {!onReply && (
        <p id="thread-unavailable" className="muted">
          Replying in threads is not available on this server yet.
        </p>
      )}
      {error && (
        <p role="alert" className="field-error">
          {error}
        </p>
      )}
    </form>
  );
}
