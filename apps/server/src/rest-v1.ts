import { withRestDoors } from "@parley/api";
import type { AnyRouter } from "@trpc/server";
import express from "express";
import { attachmentPaths } from "./attachment-routes.ts";
import type { OpenApiDocumentInfo } from "./openapi-document.ts";
import { createRestApi, type RestApiOptions } from "./rest-api.ts";
import { ROOM_EVENTS_SSE_PATH, type RoomEventStreams } from "./room-events-sse.ts";

export const REST_V1_BASE = "/api/v1";

/** The Server-Sent Events door, which trpc-to-openapi cannot describe (it skips subscriptions). */
const roomEventsPath = {
  "/rooms/{roomId}/events": {
    get: {
      operationId: "rooms-events",
      summary: "chat.events as Server-Sent Events",
      description:
        "Every change to a room, in order, each once: `id:` is the event's `seq`, `data:` the event as JSON (switch on its `type`). Resume with the `Last-Event-ID` header (EventSource sends it on reconnect) or `?lastEventId=`; the events after it are replayed first, across restarts and instances. Comment lines (`: keep-alive`) keep an idle stream open. The stream ends, with a last `event: error` naming the code, when the caller loses access (kicked, the room turned private or deleted, logged out). Opening it: the same checks and errors as `chat.events` (NOT_FOUND for a private room the caller is not in, BAD_REQUEST for an id past the room's newest event).",
      tags: ["chat"],
      security: [{ Authorization: [] }],
      parameters: [
        {
          name: "roomId",
          in: "path" as const,
          required: true,
          schema: { type: "string" as const, format: "uuid" },
        },
        {
          name: "Last-Event-ID",
          in: "header" as const,
          required: false,
          description: "The `id` of the last event received: the stream resumes after it",
          schema: { type: "string" as const, pattern: "^\\d{1,15}$" },
        },
        {
          name: "lastEventId",
          in: "query" as const,
          required: false,
          description: "The same as the Last-Event-ID header, for clients that cannot set headers",
          schema: { type: "string" as const, pattern: "^\\d{1,15}$" },
        },
      ],
      responses: {
        "200": {
          description: "The stream of events",
          content: { "text/event-stream": { schema: { type: "string" as const } } },
        },
        "400": { description: "Invalid room id or event id" },
        "401": { description: "Sign in first" },
        "404": { description: "No such room, or a private room the caller is not in" },
        "429": { description: "Too many open connections for this user" },
      },
    },
  },
};

const v1Document: OpenApiDocumentInfo = {
  description:
    "Every query and mutation of Parley's tRPC API over plain JSON: a query is `GET {base}/{path with slashes}` with its input as query parameters, a mutation `POST` with its input as the JSON body (`chat.rooms.list` is `GET /api/v1/chat/rooms/list`). Authenticate with the session id from `POST /auth/login` as `Authorization: Bearer <token>`. Errors carry the tRPC code, message and field errors, with the HTTP status of tRPC's table. A room's events are Server-Sent Events at `/rooms/{roomId}/events`. See docs/rest.md.",
  baseUrl: REST_V1_BASE,
  version: "1.0.0",
  paths: { ...roomEventsPath, ...attachmentPaths },
};

/** The one document of /api/v1, served at /api/v1/openapi.json (and linted: `pnpm lint:openapi`). */
export async function createRestV1Document(router: AnyRouter) {
  // Imported here: trpc-to-openapi is not loaded by a start (see createRestApi).
  const { createOpenApiDocument } = await import("./openapi-document.ts");
  return createOpenApiDocument(withRestDoors(router), v1Document);
}

/** `/api/v1`: every query and mutation's REST door, its OpenAPI document, and a room's events as SSE. */
export function createRestApiV1(options: RestApiOptions & { roomEvents: RoomEventStreams }) {
  const v1 = express.Router();
  v1.get(ROOM_EVENTS_SSE_PATH, options.roomEvents.handler);
  v1.use(createRestApi({ ...options, router: withRestDoors(options.router), document: v1Document }));
  return v1;
}
