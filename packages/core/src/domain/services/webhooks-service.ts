import { randomBytes } from "node:crypto";
import { type Database, schema } from "@parley/db";
import { desc, eq } from "drizzle-orm";
import type { WebhookAddresses } from "../../infra/webhooks/webhook-addresses.ts";
import { DomainError } from "../errors.ts";
import {
  type CreateWebhookInput,
  type UpdateWebhookInput,
  WEBHOOK_EVENT_TYPES,
  WEBHOOK_TEST_EVENT,
  type WebhookEventType,
} from "../schemas/webhooks.ts";
import { type AuditCaller, recordAudit } from "./audit-log.ts";
import { DEFAULT_MAX_ATTEMPTS } from "./email-outbox.ts";
import type { RoomEvent } from "./room-events.ts";

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// Fails to compile when a room event type is added without its place in WEBHOOK_EVENT_TYPES.
true satisfies Same<WebhookEventType, RoomEvent["type"]>;

export interface WebhookDeps {
  db: Database;
  clock: () => Date;
  webhookAddresses: WebhookAddresses;
}

function columns() {
  const w = schema.webhooks;
  return {
    id: w.id,
    url: w.url,
    roomId: w.roomId,
    eventTypes: w.eventTypes,
    active: w.active,
    createdAt: w.createdAt,
    updatedAt: w.updatedAt,
  };
}

type WebhookRow = {
  id: string;
  url: string;
  roomId: string | null;
  eventTypes: string[];
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
};

/** The stored types, narrowed to the list: a type dropped from it is not shown. */
function view(row: WebhookRow) {
  const known = new Set<string>(WEBHOOK_EVENT_TYPES);
  return { ...row, eventTypes: row.eventTypes.filter((type) => known.has(type)) as WebhookEventType[] };
}

/** Standard Webhooks' secret format: whsec_ and 32 random bytes in base64. */
function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** Refuses, when the server refuses private addresses, a URL whose host resolves to one (SSRF). */
async function checkUrl(deps: WebhookDeps, url: string): Promise<void> {
  // Where private addresses are allowed (tests), nothing is resolved: registration needs no DNS.
  if (!deps.webhookAddresses.refusesPrivate) return;
  const checked = await deps.webhookAddresses.check(url);
  if (!checked.ok) throw new DomainError("invalid", checked.reason, "url");
}

/**
 * Registers a webhook for a room, or (no roomId) for every public room. The secret is returned
 * here only. A DM is not a room a webhook may watch: NOT_FOUND, as for an unknown room.
 */
export async function createWebhook(deps: WebhookDeps, input: CreateWebhookInput, by: AuditCaller) {
  if (input.roomId) {
    const [room] = await deps.db
      .select({ kind: schema.rooms.kind })
      .from(schema.rooms)
      .where(eq(schema.rooms.id, input.roomId));
    if (room?.kind !== "room") throw new DomainError("not-found", "No such room", "roomId");
  }
  await checkUrl(deps, input.url);
  const secret = newSecret();
  const now = deps.clock();
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .insert(schema.webhooks)
      .values({
        url: input.url,
        roomId: input.roomId ?? null,
        eventTypes: input.eventTypes,
        secret,
        createdBy: by.userId,
        createdAt: now,
        updatedAt: now,
      })
      .returning(columns());
    if (!row) throw new Error("insert returned no webhook");
    await recordAudit(tx, {
      action: "admin.webhook_created",
      actorId: by.userId,
      targetType: "webhook",
      targetId: row.id,
      ...(row.roomId ? { roomId: row.roomId } : {}),
      ip: by.ip ?? null,
      details: { url: row.url, eventTypes: row.eventTypes },
      at: now,
    });
    return { ...view(row), secret };
  });
}

/** Every webhook, newest first, without its secret. */
export async function listWebhooks(deps: { db: Database }) {
  const rows = await deps.db
    .select(columns())
    .from(schema.webhooks)
    .orderBy(desc(schema.webhooks.createdAt), desc(schema.webhooks.id));
  return rows.map(view);
}

/** Changes a webhook's URL, event types or whether it is active; the secret stays. */
export async function updateWebhook(deps: WebhookDeps, input: UpdateWebhookInput, by: AuditCaller) {
  if (input.url !== undefined) await checkUrl(deps, input.url);
  const now = deps.clock();
  const changes = {
    ...(input.url !== undefined ? { url: input.url } : {}),
    ...(input.eventTypes !== undefined ? { eventTypes: input.eventTypes } : {}),
    ...(input.active !== undefined ? { active: input.active } : {}),
  };
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .update(schema.webhooks)
      .set({ ...changes, updatedAt: now })
      .where(eq(schema.webhooks.id, input.id))
      .returning(columns());
    if (!row) throw new DomainError("not-found", "No such webhook");
    await recordAudit(tx, {
      action: "admin.webhook_updated",
      actorId: by.userId,
      targetType: "webhook",
      targetId: row.id,
      ip: by.ip ?? null,
      details: changes,
      at: now,
    });
    return view(row);
  });
}

/** Deletes a webhook. Its queued deliveries end as dead jobs ("the webhook was deleted") when tried. */
export async function deleteWebhook(
  deps: Omit<WebhookDeps, "webhookAddresses">,
  id: string,
  by: AuditCaller,
) {
  return deps.db.transaction(async (tx) => {
    const [row] = await tx
      .delete(schema.webhooks)
      .where(eq(schema.webhooks.id, id))
      .returning({ id: schema.webhooks.id, url: schema.webhooks.url });
    if (!row) throw new DomainError("not-found", "No such webhook");
    await recordAudit(tx, {
      action: "admin.webhook_deleted",
      actorId: by.userId,
      targetType: "webhook",
      targetId: row.id,
      ip: by.ip ?? null,
      details: { url: row.url },
      at: deps.clock(),
    });
    return { id: row.id };
  });
}

/**
 * Queues a test delivery (type webhook.test) through the outbox, like any event: its outcome
 * shows in admin.jobs under the returned job id. An inactive webhook is refused (CONFLICT):
 * the worker would not send it.
 */
export async function testWebhook(deps: Omit<WebhookDeps, "webhookAddresses">, id: string) {
  const [hook] = await deps.db
    .select({ id: schema.webhooks.id, url: schema.webhooks.url, active: schema.webhooks.active })
    .from(schema.webhooks)
    .where(eq(schema.webhooks.id, id));
  if (!hook) throw new DomainError("not-found", "No such webhook");
  if (!hook.active) throw new DomainError("conflict", "This webhook is disabled");
  const now = deps.clock();
  const [job] = await deps.db
    .insert(schema.emailOutbox)
    .values({
      kind: "webhook",
      template: WEBHOOK_TEST_EVENT,
      toAddress: hook.url,
      data: {
        webhookId: hook.id,
        payload: { type: WEBHOOK_TEST_EVENT, timestamp: now.toISOString(), data: { webhookId: hook.id } },
      },
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      runAt: now,
    })
    .returning({ id: schema.emailOutbox.id });
  if (!job) throw new Error("insert returned no job");
  return { jobId: job.id };
}
