// What configuration is made of (defaults, rule shapes, the S3 URL), apart from the code that
// uses it: the server's config.ts reads these before it opens the database, and importing the
// package's index there would evaluate the whole domain (its zod schemas, rate-limiter-flexible,
// lucia) before the database's first round trip instead of while its migrations run.
export { defaultEmailWorkerSettings, type EmailWorkerSettings } from "./infra/email/email-worker-settings.ts";
export {
  defaultRateLimits,
  type RateLimitName,
  type RateLimitRule,
  type RateLimitRules,
} from "./infra/rate-limit-rules.ts";
export { parseS3Url, type S3Location, S3UrlError } from "./infra/storage/s3-url.ts";
export {
  defaultWebhookDeliverySettings,
  type WebhookDeliverySettings,
} from "./infra/webhooks/webhook-delivery-settings.ts";
