import { editMessageInput } from "@parley/api/schemas";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useState } from "react";
import { EmojiPicker } from "../emoji/emoji-picker.tsx";
import { type FieldErrors, serverErrors, validate } from "../forms/field-errors.ts";
import { ReportButton } from "../moderation/report-button.tsx";
import { useTRPC } from "../parley.ts";
import { MessageAttachments } from "./message-attachments.tsx";
import type { ListedMessage } from "./timeline-state.ts";

const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀"];

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/**
 * One message. `startsGroup` draws its author and time (see message-groups.ts); a message that
 * continues a group keeps them for screen readers only, so each message still says who and when.
 */
export function MessageItem({
  message,
  mine,
  canModerate,
  canReact,
  startsGroup = true,
  onReplyInThread,
  onOpenThread,
  unreadReplies,
}: {
  message: ListedMessage;
  mine: boolean;
  canModerate: boolean;
  canReact: boolean;
  startsGroup?: boolean;
  onReplyInThread?: (message: ListedMessage, trigger: HTMLElement) => void;
  /** Opens the thread to read it (members and readers alike), from the reply count. */
  onOpenThread?: (message: ListedMessage, trigger: HTMLElement) => void;
  /** New replies in the thread, when the reader follows it. */
  unreadReplies?: number | undefined;
}) {
  const trpc = useTRPC();
  const [editing, setEditing] = useState(false);
  const remove = useMutation(trpc.chat.messages.delete.mutationOptions());
  const react = useMutation(trpc.chat.messages.react.mutationOptions());
  const unreact = useMutation(trpc.chat.messages.unreact.mutationOptions());
  const created = new Date(message.createdAt);
  const deleted = message.deletedAt !== null;

  const toggle = (emoji: string) => {
    const existing = message.reactions.find((r) => r.emoji === emoji);
    if (existing?.mine) unreact.mutate({ messageId: message.id, emoji });
    else react.mutate({ messageId: message.id, emoji });
  };

  // A reaction from the full picker only adds: taking one away is the chip's job.
  const add = (emoji: string) => {
    if (!message.reactions.find((r) => r.emoji === emoji)?.mine)
      react.mutate({ messageId: message.id, emoji });
  };

  return (
    <li
      className={`message${mine ? " mine" : ""}${startsGroup ? " group-start" : " group-continued"}`}
      data-seq={message.seq}
      data-message-id={message.id}
      data-author={message.authorName}
    >
      <p className={startsGroup ? "message-meta" : "message-meta visually-hidden"}>
        <strong>{message.authorName}</strong>{" "}
        <time dateTime={message.createdAt} title={dateFormat.format(created)}>
          {timeFormat.format(created)}
        </time>
      </p>
      {deleted ? (
        <p className="message-body tombstone">Message deleted</p>
      ) : editing ? (
        <EditMessage message={message} done={() => setEditing(false)} />
      ) : (
        <div className="message-content">
          {message.content && <p className="message-body">{message.content}</p>}
          {message.editedAt && <span className="muted edited-marker">(edited)</span>}
          <MessageAttachments attachments={message.attachments} />
        </div>
      )}
      {message.replyCount > 0 && onOpenThread && (
        <p className="thread-summary">
          <button
            type="button"
            className="link-button"
            onClick={(event) => onOpenThread(message, event.currentTarget)}
          >
            {message.replyCount} {message.replyCount === 1 ? "reply" : "replies"}
            <span className="visually-hidden"> to {message.authorName}'s message</span>
          </button>
          {message.lastReplyAt && (
            <span className="muted">
              {" "}
              · last reply{" "}
              <time dateTime={message.lastReplyAt} title={dateFormat.format(new Date(message.lastReplyAt))}>
                {timeFormat.format(new Date(message.lastReplyAt))}
              </time>
            </span>
          )}
          {unreadReplies !== undefined && unreadReplies > 0 && (
            <span className="badge">
              {unreadReplies}
              <span className="visually-hidden"> new {unreadReplies === 1 ? "reply" : "replies"}</span>
            </span>
          )}
        </p>
      )}
      {!deleted && (
        <div className="message-actions">
          {message.reactions.map((reaction) => (
            <button
              key={reaction.emoji}
              type="button"
              className="reaction"
              aria-pressed={reaction.mine}
              aria-label={`${reaction.emoji} ${reaction.count}${reaction.mine ? ", including you" : ""}`}
              disabled={!canReact}
              onClick={() => toggle(reaction.emoji)}
            >
              {reaction.emoji} {reaction.count}
            </button>
          ))}
          {canReact && (
            <details className="react-picker">
              <summary>
                React<span className="visually-hidden"> to {message.authorName}'s message</span>
              </summary>
              {QUICK_REACTIONS.map((emoji) => (
                <button key={emoji} type="button" className="reaction" onClick={() => toggle(emoji)}>
                  {emoji}
                </button>
              ))}
              <EmojiPicker label="More reactions" trigger="+" onPick={add} />
            </details>
          )}
          {onReplyInThread && (
            <button
              type="button"
              className="link-button"
              onClick={(event) => onReplyInThread(message, event.currentTarget)}
            >
              Reply in thread<span className="visually-hidden"> to {message.authorName}'s message</span>
            </button>
          )}
          {!mine && canReact && <ReportButton messageId={message.id} authorName={message.authorName} />}
          {mine && !editing && (
            <button type="button" className="link-button" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          {(mine || canModerate) && (
            <button
              type="button"
              className="link-button"
              disabled={remove.isPending}
              onClick={() => {
                if (window.confirm("Delete this message?")) remove.mutate({ messageId: message.id });
              }}
            >
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
}

function EditMessage({ message, done }: { message: ListedMessage; done: () => void }) {
  const trpc = useTRPC();
  const [text, setText] = useState(message.content ?? "");
  const [errors, setErrors] = useState<FieldErrors>({});
  const edit = useMutation(
    trpc.chat.messages.edit.mutationOptions({ onSuccess: done, onError: (e) => setErrors(serverErrors(e)) }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const result = validate(editMessageInput, { messageId: message.id, content: text });
    if ("errors" in result) return setErrors(result.errors);
    edit.mutate(result.data);
  };
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") done();
  };
  const error = errors.content ?? errors[""];
  return (
    <form onSubmit={submit} className="edit-message" noValidate>
      <label htmlFor={`edit-${message.id}`} className="visually-hidden">
        Edit message
      </label>
      <textarea
        id={`edit-${message.id}`}
        value={text}
        rows={2}
        // The user just asked to edit: the field is where they want to be.
        // biome-ignore lint/a11y/noAutofocus: focus follows the user's own action.
        autoFocus
        onChange={(e) => setText(e.target.value)}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `edit-${message.id}-error` : undefined}
      />
      {error && (
        <p id={`edit-${message.id}-error`} className="field-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={edit.isPending}>
        Save
      </button>{" "}
      <button type="button" className="link-button" onClick={done}>
        Cancel
      </button>
    </form>
  );
}
