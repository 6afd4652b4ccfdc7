import { type Database, insertMessage, schema, sentBefore, type Transaction } from "@parley/db";
import { and, asc, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { BlobStore } from "../../infra/storage/blob-store.ts";
import { type InspectedFile, inspectFile } from "../../infra/storage/file-inspection.ts";
import { DomainError } from "../errors.ts";
import { ATTACHMENT_TYPES, type AttachmentType } from "../schemas/attachments.ts";
import type { Caller, ChatDeps } from "./chat-deps.ts";
import { mentionsIn, type ParsedMentions } from "./mentions-service.ts";
import type { AttachmentView } from "./room-events.ts";
import { refusePost } from "./room-sanctions.ts";
import { readableRoom, requireMember } from "./rooms-service.ts";

/** Where files go and how much a user may keep: from the server's config (UPLOAD_*). */
export interface UploadSettings {
  store: BlobStore;
  /** The largest file, in bytes. */
  maxBytes: number;
  /** The most one user may hold, stored and pending together, in bytes. */
  quotaBytes: number;
  /** An upload not on a message this long after it was asked for is removed. */
  abandonMs: number;
}

export interface AttachmentDeps extends ChatDeps {
  uploads: UploadSettings;
}

/** The paths clients use: the bytes go up and come down outside tRPC. */
export const uploadPathOf = (id: string) => `/api/v1/uploads/${id}`;
export const filePathOf = (id: string) => `/api/v1/files/${id}`;
export const thumbnailPathOf = (id: string) => `/api/v1/files/${id}/thumbnail`;

/** Blob keys come from the id only: a user's file name never reaches a path or a key. */
export const blobKeyOf = (id: string) => `a/${id}`;
export const thumbnailKeyOf = (id: string) => `a/${id}.thumb`;

const a = schema.attachments;
type AttachmentRow = typeof a.$inferSelect;

export const attachmentNotFound = () => new DomainError("not-found", "No such file");

function viewOf(row: AttachmentRow): AttachmentView {
  return {
    id: row.id,
    name: row.name,
    contentType: row.contentType,
    size: row.size,
    width: row.width,
    height: row.height,
    url: filePathOf(row.id),
    thumbnailUrl: row.hasThumbnail ? thumbnailPathOf(row.id) : null,
  };
}

function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 1_048_576) * 10) / 10} MiB`;
}

/**
 * Step 1 of an upload: a member who may post asks to upload one file of a declared size and
 * type. Checks the limit and the caller's quota (stored and pending files together), and
 * records the pending upload. The quota is summed under the caller's user row lock, so two
 * concurrent requests cannot both take the last of it.
 */
export async function createAttachment(
  deps: AttachmentDeps,
  caller: Caller,
  input: { roomId: string; name: string; size: number; contentType: AttachmentType },
) {
  await requireMember(deps, caller, input.roomId);
  await refusePost(deps, caller, input.roomId);
  const { maxBytes, quotaBytes, abandonMs } = deps.uploads;
  if (input.size > maxBytes) {
    throw new DomainError("too-large", `A file may be at most ${mebibytes(maxBytes)}`, "size");
  }
  const createdAt = deps.clock();
  const row = await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from users where id = ${caller.id} for update`);
    const [used] = await tx
      .select({ bytes: sql<string>`coalesce(sum(${a.size}), 0)::text` })
      .from(a)
      .where(eq(a.uploaderId, caller.id));
    if (Number(used?.bytes ?? 0) + input.size > quotaBytes) {
      throw new DomainError(
        "forbidden",
        `Your upload quota of ${mebibytes(quotaBytes)} is used up: delete messages with files, or send a smaller one`,
      );
    }
    const [inserted] = await tx
      .insert(a)
      .values({
        roomId: input.roomId,
        uploaderId: caller.id,
        name: input.name,
        contentType: input.contentType,
        size: input.size,
        createdAt,
      })
      .returning({ id: a.id });
    if (!inserted) throw new Error("the attachment insert returned no row");
    return inserted;
  });
  return {
    attachmentId: row.id,
    uploadUrl: uploadPathOf(row.id),
    expiresAt: new Date(createdAt.getTime() + abandonMs).toISOString(),
  };
}

/**
 * Step 2, before the body is read: the pending upload of this caller, with the most bytes it may
 * send. Anyone else's id, or an id that does not exist or has expired, is NOT_FOUND; an upload
 * already received is CONFLICT.
 */
export async function pendingUpload(deps: AttachmentDeps, uploaderId: string, attachmentId: string) {
  const [row] = await deps.db.select().from(a).where(eq(a.id, attachmentId));
  if (!row || row.uploaderId !== uploaderId || row.status === "deleted") throw attachmentNotFound();
  if (row.status !== "pending") throw new DomainError("conflict", "This file was already uploaded");
  if (row.createdAt.getTime() + deps.uploads.abandonMs <= deps.clock().getTime()) throw attachmentNotFound();
  return { id: row.id, maxBytes: Math.min(row.size, deps.uploads.maxBytes) };
}

/**
 * Step 2, once the body is read (at most pendingUpload's maxBytes): detects the type, makes the
 * thumbnail, stores the bytes and marks the upload stored. Nothing is stored when the file is
 * refused. The row stays locked while the blobs are written, so a second PUT of the same id
 * waits and is answered CONFLICT, and the sweeper (SKIP LOCKED) leaves an upload in flight alone.
 */
export async function completeUpload(
  deps: AttachmentDeps,
  uploaderId: string,
  attachmentId: string,
  bytes: Buffer,
  inspect: typeof inspectFile = inspectFile,
): Promise<AttachmentView> {
  const { store } = deps.uploads;
  return deps.db.transaction(async (tx) => {
    const [row] = await tx.select().from(a).where(eq(a.id, attachmentId)).for("update");
    if (!row || row.uploaderId !== uploaderId || row.status === "deleted") throw attachmentNotFound();
    if (row.status !== "pending") throw new DomainError("conflict", "This file was already uploaded");
    const file: InspectedFile = await inspect(bytes, row.contentType, ATTACHMENT_TYPES);
    await store.put(blobKeyOf(row.id), bytes, file.contentType);
    if (file.thumbnail) await store.put(thumbnailKeyOf(row.id), file.thumbnail, "image/webp");
    const [stored] = await tx
      .update(a)
      .set({
        status: "stored",
        contentType: file.contentType,
        size: bytes.length,
        width: file.width,
        height: file.height,
        hasThumbnail: file.thumbnail !== null,
        storedAt: deps.clock(),
      })
      .where(eq(a.id, row.id))
      .returning();
    if (!stored) throw new Error("the locked attachment row vanished");
    return viewOf(stored);
  });
}

/**
 * The files a send names, locked until the send commits: each must be the caller's own, stored,
 * uploaded to this room and on no message yet. Otherwise BAD_REQUEST on `attachmentIds`, with the
 * same words whether the id is someone else's or does not exist. In the order given.
 */
export async function claimAttachments(
  tx: Transaction,
  callerId: string,
  roomId: string,
  ids: readonly string[],
): Promise<AttachmentView[]> {
  const rows = await tx
    .select()
    .from(a)
    .where(
      and(
        inArray(a.id, [...ids]),
        eq(a.uploaderId, callerId),
        eq(a.roomId, roomId),
        eq(a.status, "stored"),
        isNull(a.messageId),
      ),
    )
    .for("update");
  if (rows.length !== ids.length) {
    throw new DomainError(
      "invalid",
      "Each file must be one you uploaded to this room, completely, and not yet sent",
      "attachmentIds",
    );
  }
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => viewOf(byId.get(id) as AttachmentRow));
}

/**
 * A send that carries files, in one transaction: a retry of a committed send returns that message
 * and links nothing; otherwise the files are claimed (locked), the message written with their
 * views, and the files linked to it. Mentions are resolved in the same transaction when given.
 */
export async function sendWithAttachments(
  deps: ChatDeps,
  caller: Caller,
  input: { roomId: string; content: string; clientMessageId: string },
  attachmentIds: readonly string[],
  parsedMentions: ParsedMentions | null,
) {
  const sender = {
    userId: caller.id,
    clientMessageId: input.clientMessageId,
    authorName: caller.displayName,
  };
  return deps.db.transaction(async (tx) => {
    const existing = await sentBefore(tx, sender);
    if (existing) return { created: false, message: existing };
    const attachments = await claimAttachments(tx, caller.id, input.roomId, attachmentIds);
    const mentions = parsedMentions ? await mentionsIn(deps, tx, caller, input.roomId, parsedMentions) : null;
    const row = await insertMessage(tx, {
      ...sender,
      roomId: input.roomId,
      content: input.content,
      mentions: mentions?.ids,
      mentionsRoom: mentions?.room,
      attachments,
    });
    if (row?.created) {
      await linkAttachments(tx, row.message.id, attachmentIds);
      await mentions?.deliver(tx, row.message);
    }
    return row;
  });
}

/** Puts the claimed files on the message just written, in the send's transaction. */
export async function linkAttachments(tx: Transaction, messageId: string, ids: readonly string[]) {
  await tx
    .update(a)
    .set({ messageId })
    .where(inArray(a.id, [...ids]));
}

/** A message's deletion takes its files with it: from this commit on they are NOT_FOUND. */
export async function deleteAttachmentsOf(tx: Transaction, messageId: string) {
  await tx.update(a).set({ status: "deleted" }).where(eq(a.messageId, messageId));
}

/**
 * A file the caller may download: on a message (not deleted) in a room the caller may read,
 * decided by readableRoom as for the room's history; or the caller's own upload not yet sent.
 * Anything else is NOT_FOUND, the same for every case.
 */
export async function readableFile(
  deps: ChatDeps,
  caller: Caller,
  attachmentId: string,
  which: "file" | "thumbnail",
): Promise<{ key: string; contentType: string; name: string }> {
  const [row] = await deps.db
    .select({
      attachment: a,
      messageDeletedAt: schema.messages.deletedAt,
      messageRoomId: schema.messages.roomId,
    })
    .from(a)
    .leftJoin(schema.messages, eq(schema.messages.id, a.messageId))
    .where(eq(a.id, attachmentId));
  const file = row?.attachment;
  if (!row || !file || file.status !== "stored") throw attachmentNotFound();
  if (which === "thumbnail" && !file.hasThumbnail) throw attachmentNotFound();
  if (file.messageId === null) {
    if (file.uploaderId !== caller.id) throw attachmentNotFound();
  } else {
    if (row.messageDeletedAt !== null || row.messageRoomId === null) throw attachmentNotFound();
    try {
      await readableRoom(deps, caller, row.messageRoomId);
    } catch (error) {
      if (error instanceof DomainError && error.kind === "not-found") throw attachmentNotFound();
      throw error;
    }
  }
  return which === "file"
    ? { key: blobKeyOf(file.id), contentType: file.contentType, name: file.name }
    : { key: thumbnailKeyOf(file.id), contentType: "image/webp", name: `${file.name}.webp` };
}

/**
 * Removes what no message holds: uploads not sent within `abandonMs` (pending or stored), and
 * the files of deleted messages (and of deleted rooms, whose rows lost their message). Blobs
 * first, then the row, one row at a time under its lock (SKIP LOCKED: an upload or a send in
 * flight is left for the next pass), at most `limit` rows a pass. A blob already gone is fine.
 * Resolves to the number of files removed.
 */
export async function sweepAttachments(
  deps: { db: Database; clock: () => Date; uploads: Pick<UploadSettings, "store" | "abandonMs"> },
  options: { limit?: number } = {},
): Promise<number> {
  const limit = options.limit ?? 100;
  const cutoff = new Date(deps.clock().getTime() - deps.uploads.abandonMs);
  const garbage = or(eq(a.status, "deleted"), and(isNull(a.messageId), lt(a.createdAt, cutoff)));
  const candidates = await deps.db
    .select({ id: a.id })
    .from(a)
    .where(garbage)
    .orderBy(asc(a.createdAt))
    .limit(limit);
  let removed = 0;
  for (const { id } of candidates) {
    const done = await deps.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ id: a.id })
        .from(a)
        .where(and(eq(a.id, id), garbage))
        .for("update", { skipLocked: true });
      if (!row) return false;
      await deps.uploads.store.delete(blobKeyOf(id));
      await deps.uploads.store.delete(thumbnailKeyOf(id));
      await tx.delete(a).where(eq(a.id, id));
      return true;
    });
    if (done) removed++;
  }
  return removed;
}
