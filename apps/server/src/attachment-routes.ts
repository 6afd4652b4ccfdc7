import type { IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { type ApiDeps, type Context, createHttpContextFactory, toApiError } from "@parley/api";
import { attachmentsService, UnsupportedFileError } from "@parley/core";
import { INLINE_IMAGE_TYPES } from "@parley/core/schemas";
import { TRPCError } from "@trpc/server";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import express, { type Request, type RequestHandler, type Response } from "express";
import { noteCaller, noteErrorCode } from "./request-log.ts";
import { trpcRequestInfo } from "./trpc-request-info.ts";

/** The bytes of attachments, outside tRPC (their JSON steps are `chat.attachments.create` and the send). */
export const UPLOAD_PATH = "/uploads/:attachmentId";
export const FILE_PATH = "/files/:attachmentId";
export const THUMBNAIL_PATH = "/files/:attachmentId/thumbnail";

type Caller = NonNullable<Context["auth"]>["user"];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A browser keeps a file it was shown this long without asking again: short, so that a deleted
// message's file does not linger in caches (the server answers 404 from the moment of the delete).
const CACHE_CONTROL = "private, max-age=300";

/** The REST doors' error shape (trpc-to-openapi's): `{ message, code }` with the code's HTTP status. */
function sendError(req: Request, res: Response, error: TRPCError) {
  noteErrorCode(req, error.code);
  const status = getHTTPStatusCodeFromError(error);
  if (!res.headersSent) res.status(status).json({ message: error.message, code: error.code });
}

function asApiError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  if (error instanceof UnsupportedFileError) {
    return new TRPCError({ code: "UNSUPPORTED_MEDIA_TYPE", message: error.message });
  }
  return toApiError(new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: error }));
}

const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "No such file" });
const tooLarge = (max: number) =>
  new TRPCError({ code: "PAYLOAD_TOO_LARGE", message: `The file is larger than the ${max} bytes announced` });

/** `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 and 8187). */
export function contentDisposition(kind: "inline" | "attachment", name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\%;]/g, "_");
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/**
 * The body, counted as it arrives: null as soon as it passes `max` bytes (the rest is never
 * buffered), so a client that announced 1 KB cannot make the server hold 1 GB.
 */
async function readBounded(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > max) return null;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > max) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

export interface AttachmentRoutesOptions {
  deps: ApiDeps;
}

/**
 * `PUT /uploads/:id` (the bytes of a pending upload, by its uploader), `GET /files/:id` and
 * `GET /files/:id/thumbnail` (for whoever may read the message's room, or the uploader before it
 * is sent). Mounted under /api/v1 before the REST doors, behind the app's Origin check.
 */
export function createAttachmentRoutes({ deps }: AttachmentRoutesOptions) {
  const router = express.Router();
  const createContext = noteCaller(createHttpContextFactory(deps));

  async function callerOf(req: Request, res: Response): Promise<{ ctx: Context; caller: Caller }> {
    const ctx = await createContext({ req, res, info: trpcRequestInfo(req, "mutation") });
    if (!ctx.auth) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
    return { ctx, caller: ctx.auth.user };
  }

  function attachmentIdOf(req: Request): string {
    const id = req.params.attachmentId;
    // Not a uuid: no such file (the database would refuse the text as a uuid).
    if (typeof id !== "string" || !UUID.test(id)) throw notFound();
    return id.toLowerCase();
  }

  const upload: RequestHandler = async (req, res) => {
    try {
      const { ctx, caller } = await callerOf(req, res);
      const pending = await attachmentsService.pendingUpload(ctx, caller.id, attachmentIdOf(req));
      const bytes = await readBounded(req, pending.maxBytes);
      if (!bytes) {
        // Answered now; the rest of the body is discarded by Node and the connection closed.
        res.setHeader("Connection", "close");
        return sendError(req, res, tooLarge(pending.maxBytes));
      }
      const view = await attachmentsService.completeUpload(ctx, caller.id, pending.id, bytes);
      res.status(200).json(view);
    } catch (error) {
      const apiError = asApiError(error);
      if (apiError.code === "INTERNAL_SERVER_ERROR") deps.log.error({ err: error }, "upload failed");
      sendError(req, res, apiError);
    }
  };

  const download =
    (which: "file" | "thumbnail"): RequestHandler =>
    async (req, res) => {
      try {
        const { ctx, caller } = await callerOf(req, res);
        const file = await attachmentsService.readableFile(ctx, caller, attachmentIdOf(req), which);
        const blob = await deps.uploads.store.get(file.key);
        if (!blob) throw notFound();
        const inline = INLINE_IMAGE_TYPES.has(file.contentType);
        res.status(200);
        res.setHeader("Content-Type", file.contentType);
        res.setHeader("Content-Length", String(blob.size));
        res.setHeader("Content-Disposition", contentDisposition(inline ? "inline" : "attachment", file.name));
        res.setHeader("X-Content-Type-Options", "nosniff");
        // Even a file a browser did render could run nothing and reach nothing.
        res.setHeader("Content-Security-Policy", "default-src 'none'; sandbox");
        res.setHeader("Cache-Control", CACHE_CONTROL);
        await pipeline(blob.body, res);
      } catch (error) {
        if (res.headersSent) {
          deps.log.warn({ err: error }, "file download cut short");
          res.destroy();
          return;
        }
        const apiError = asApiError(error);
        if (apiError.code === "INTERNAL_SERVER_ERROR") deps.log.error({ err: error }, "download failed");
        sendError(req, res, apiError);
      }
    };

  router.put(UPLOAD_PATH, upload);
  router.get(THUMBNAIL_PATH, download("thumbnail"));
  router.get(FILE_PATH, download("file"));
  return router;
}

const attachmentIdParameter = {
  name: "attachmentId",
  in: "path" as const,
  required: true,
  schema: { type: "string" as const, format: "uuid" },
};
const errorResponse = (description: string) => ({
  description,
  content: {
    "application/json": {
      schema: {
        type: "object" as const,
        properties: { message: { type: "string" as const }, code: { type: "string" as const } },
        required: ["message", "code"],
      },
    },
  },
});
const binary = { schema: { type: "string" as const, format: "binary" } };

/** The byte routes in the /api/v1 OpenAPI document (trpc-to-openapi describes only procedures). */
export const attachmentPaths = {
  "/uploads/{attachmentId}": {
    put: {
      operationId: "uploads-put",
      summary: "The bytes of an upload asked for with chat.attachments.create",
      description:
        "The raw bytes as the body (any Content-Type: the type is detected from the bytes). Only the uploader, once, before `expiresAt`. More bytes than announced: 413, nothing stored. A type not allowed, or not of the declared kind (HTML declared as an image): 415, nothing stored. Answers the file as it will show on a message.",
      tags: ["chat"],
      security: [{ Authorization: [] }],
      parameters: [attachmentIdParameter],
      requestBody: { required: true, content: { "application/octet-stream": binary } },
      responses: {
        "200": {
          description: "Stored: send its id in `attachmentIds` of chat.messages.send",
          content: { "application/json": { schema: { type: "object" as const } } },
        },
        "401": errorResponse("Sign in first"),
        "404": errorResponse("No such upload, another user's, or expired"),
        "409": errorResponse("Already uploaded"),
        "413": errorResponse("More bytes than announced"),
        "415": errorResponse("Not an allowed type, or not the declared kind"),
      },
    },
  },
  "/files/{attachmentId}": {
    get: {
      operationId: "files-get",
      summary: "A file on a message",
      description:
        "For whoever may read the message's room (and the uploader before it is sent); 404 for anyone else, a deleted message or an unknown id. Images inline, anything else as `Content-Disposition: attachment`; always `X-Content-Type-Options: nosniff`.",
      tags: ["chat"],
      security: [{ Authorization: [] }],
      parameters: [attachmentIdParameter],
      responses: {
        "200": {
          description: "The bytes, with their detected type",
          content: { "application/octet-stream": binary },
        },
        "401": errorResponse("Sign in first"),
        "404": errorResponse("No such file, or not yours to see"),
      },
    },
  },
  "/files/{attachmentId}/thumbnail": {
    get: {
      operationId: "files-thumbnail",
      summary: "An image's thumbnail (WebP within 320×320)",
      description: "The same access as the file; 404 for a file that is not an image.",
      tags: ["chat"],
      security: [{ Authorization: [] }],
      parameters: [attachmentIdParameter],
      responses: {
        "200": { description: "The thumbnail", content: { "image/webp": binary } },
        "401": errorResponse("Sign in first"),
        "404": errorResponse("No such thumbnail, or not yours to see"),
      },
    },
  },
};
