import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { type Database, schema } from "@parley/db";
import { eq } from "drizzle-orm";
import { Webhook } from "standardwebhooks";
import { pinnedLookup, type WebhookAddresses } from "./webhook-addresses.ts";
import { defaultWebhookDeliverySettings, type WebhookDeliverySettings } from "./webhook-delivery-settings.ts";

export { defaultWebhookDeliverySettings, type WebhookDeliverySettings };

/** What the worker hands a webhook job: its id is the webhook-id header, the same on every retry. */
export interface WebhookJob {
  id: string;
  data: unknown;
}

export type DeliveryOutcome = { ok: true } | { ok: false; error: string; permanent: boolean };

export type WebhookDeliverer = (job: WebhookJob, signal: AbortSignal) => Promise<DeliveryOutcome>;

function jobData(data: unknown): { webhookId: string; payload: unknown } | null {
  if (typeof data !== "object" || data === null) return null;
  const { webhookId, payload } = data as { webhookId?: unknown; payload?: unknown };
  return typeof webhookId === "string" && payload !== undefined ? { webhookId, payload } : null;
}

/**
 * Sends webhook jobs of the outbox: a POST signed the Standard Webhooks way (webhook-id,
 * webhook-timestamp, webhook-signature = HMAC-SHA256 over "id.timestamp.body"), to the address
 * checked for this very attempt, without following redirects, reading at most a few KB back.
 */
export function createWebhookDeliverer(options: {
  db: Database;
  addresses: WebhookAddresses;
  clock?: () => Date;
  settings?: Partial<WebhookDeliverySettings>;
}): WebhookDeliverer {
  const settings = { ...defaultWebhookDeliverySettings, ...options.settings };
  const clock = options.clock ?? (() => new Date());
  const w = schema.webhooks;

  return async (job, signal) => {
    const data = jobData(job.data);
    if (!data) return { ok: false, error: "malformed webhook job", permanent: true };
    const [hook] = await options.db
      .select({ url: w.url, secret: w.secret, active: w.active })
      .from(w)
      .where(eq(w.id, data.webhookId));
    // Its webhook deleted or paused since: the admin no longer wants it sent.
    if (!hook) return { ok: false, error: "the webhook was deleted", permanent: true };
    if (!hook.active) return { ok: false, error: "the webhook is disabled", permanent: true };
    // Resolved once per attempt, and the connection pinned to what was checked.
    const target = await options.addresses.check(hook.url);
    // A refused address ends the job (it is not sent, whatever DNS says later); a name that does
    // not resolve may be a passing DNS failure, retried like a refused connection.
    if (!target.ok) return { ok: false, error: target.reason, permanent: target.refused };
    const body = JSON.stringify(data.payload);
    const at = clock();
    const headers = {
      "content-type": "application/json",
      "user-agent": "Parley-Webhooks/1",
      "webhook-id": job.id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(hook.secret).sign(job.id, at, body),
    };
    try {
      const answer = await post(hook.url, body, headers, {
        lookup: pinnedLookup(target.address),
        signal: AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]),
        maxResponseBytes: settings.maxResponseBytes,
      });
      if (answer.status >= 200 && answer.status < 300) return { ok: true };
      const redirect = answer.status >= 300 && answer.status < 400 ? " (redirects are not followed)" : "";
      return {
        ok: false,
        error: `HTTP ${answer.status}${redirect}: ${answer.text}`.slice(0, 1000),
        permanent: false,
      };
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { ok: false, error: message.slice(0, 1000), permanent: false };
    }
  };
}

function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { lookup: ReturnType<typeof pinnedLookup>; signal: AbortSignal; maxResponseBytes: number },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    // agent: false, a connection of its own: a pooled socket could be one opened to another address.
    const request = send(
      url,
      {
        method: "POST",
        headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
        lookup: options.lookup,
        signal: options.signal,
        agent: false,
      },
      (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let read = 0;
        const finish = () =>
          resolve({
            status: response.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8").slice(0, options.maxResponseBytes),
          });
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          read += chunk.length;
          // Enough for an error message; a receiver streaming more is not read further.
          if (read >= options.maxResponseBytes) {
            response.destroy();
            finish();
          }
        });
        response.on("end", finish);
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
