import { z } from "zod";
import { roomId } from "./chat.ts";
import { text, uuid } from "./text.ts";

/**
 * The events a webhook may subscribe to: the room event types of `chat.events`, under the same
 * names, so a receiver and a WebSocket client switch on the same `type`. Listed once here; the
 * webhooks service holds the list equal to RoomEvent's types at compile time.
 */
export const WEBHOOK_EVENT_TYPES = [
  "message.created",
  "message.updated",
  "message.deleted",
  "reaction.added",
  "reaction.removed",
  "member.joined",
  "member.left",
  "member.role_changed",
  "member.muted",
  "member.banned",
  "member.unmuted",
  "member.unbanned",
  "thread.updated",
  "room.updated",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** The type of the payload a test delivery carries; not a room event, never subscribed to. */
export const WEBHOOK_TEST_EVENT = "webhook.test";

export const webhookUrl = text()
  .max(2048, "Must be at most 2048 characters")
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: "Must be an http:// or https:// URL",
  })
  .refine((value) => !URL.canParse(value) || (!new URL(value).username && !new URL(value).password), {
    message: "Must not carry a user name or password",
  });

const eventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, "Choose at least one event type")
  .max(WEBHOOK_EVENT_TYPES.length)
  .transform((types) => [...new Set(types)]);

export const webhookIdInput = z.object({ id: uuid("Is not a webhook id") });

export const createWebhookInput = z.object({
  url: webhookUrl,
  /** Absent: every public room. */
  roomId: roomId.optional(),
  eventTypes,
});

export const updateWebhookInput = z.object({
  id: uuid("Is not a webhook id"),
  url: webhookUrl.optional(),
  eventTypes: eventTypes.optional(),
  active: z.boolean().optional(),
});

export type CreateWebhookInput = z.infer<typeof createWebhookInput>;
export type UpdateWebhookInput = z.infer<typeof updateWebhookInput>;
