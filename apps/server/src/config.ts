import {
  defaultEmailWorkerSettings,
  defaultRateLimits,
  defaultWebhookDeliverySettings,
  parseS3Url,
  type RateLimitRules,
  S3UrlError,
} from "@parley/core/settings";
import { z } from "zod";
import { defaultLimits } from "./server-limits.ts";

const origin = z
  .url()
  .transform((value) => new URL(value).origin)
  .refine((value) => value !== "null", "must be an http(s) origin");

/** "points/seconds", e.g. "20/10": 20 calls per 10 seconds. */
const rateLimitRule = z
  .string()
  .regex(/^\d{1,7}\/\d{1,6}$/, 'must be "points/seconds", e.g. "20/10"')
  .transform((value) => {
    const [points, durationSeconds] = value.split("/").map(Number);
    return { points: points ?? 0, durationSeconds: durationSeconds ?? 0 };
  })
  .optional();

/** Whether a string is a URL with one of these protocols (false, not a throw, for a non-URL). */
function hasProtocol(value: string, protocols: RegExp): boolean {
  return URL.canParse(value) && protocols.test(new URL(value).protocol);
}

// Every default of the server's options is here: a literal in this schema, or the one table the
// schema takes it from (defaultLimits, defaultRateLimits, defaultEmailWorkerSettings). The server,
// the worker and the tools read a Config and never supply a default of their own.
const settingsSchema = z
  .object({
    PORT: z.coerce
      .number({ error: (issue) => (issue.code === "invalid_type" ? "must be a number" : undefined) })
      .int()
      .min(0)
      .max(65_535)
      .default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z
      .url()
      .refine((value) => hasProtocol(value, /^postgres(ql)?:$/), "must be a postgres:// URL")
      .optional(),
    DATA_DIR: z.string().min(1).default("./.data"),
    // Unset: attachments are files under DATA_DIR/files.
    S3_URL: z
      .string()
      .transform((value, ctx) => {
        try {
          return parseS3Url(value);
        } catch (error) {
          if (!(error instanceof S3UrlError)) throw error;
          ctx.addIssue({ code: "custom", message: error.message });
          return z.NEVER;
        }
      })
      .optional(),
    REDIS_URL: z.string().min(1).optional(),
    SMTP_URL: z
      .url()
      .refine((value) => hasProtocol(value, /^smtps?:$/), "must be an smtp:// or smtps:// URL")
      .optional(),
    MAIL_FROM: z.string().min(3).max(320).optional(),
    TEAM_EMAIL: z.email().optional(),
    EMAIL_WORKER: z.enum(["on", "off"]).default("on"),
    EMAIL_WORKER_POLL_MS: z.coerce
      .number()
      .int()
      .min(10)
      .max(3_600_000)
      .default(defaultEmailWorkerSettings.pollMs),
    EMAIL_LEASE_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(3_600_000)
      .default(defaultEmailWorkerSettings.leaseMs),
    EMAIL_BACKOFF_MS: z.coerce
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(defaultEmailWorkerSettings.backoffBaseMs),
    // Webhooks may point at loopback and private addresses: for tests and local receivers. Never in
    // production, whatever this says.
    WEBHOOKS_ALLOW_PRIVATE: z.enum(["true", "false"]).default("false"),
    WEBHOOK_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(defaultWebhookDeliverySettings.timeoutMs),
    PUBLIC_ORIGIN: origin.optional(),
    ALLOWED_ORIGINS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(origin)),
    NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
    // Where the built web app is; unset: apps/web/dist. Served in production only.
    WEB_DIST_DIR: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    // Unset: readable lines in development on a terminal, JSON otherwise (production, tests, pipes).
    LOG_FORMAT: z.enum(["pretty", "json"]).optional(),
    // Bearer token for GET /metrics; without it, /metrics is 404 in production and loopback-only otherwise.
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").max(256).optional(),
    // At most one mention email per user per this many minutes (one digest of what came meanwhile).
    MENTION_EMAIL_WINDOW_MINUTES: z.coerce.number().int().min(1).max(10_080).default(15),
    // Signs the unsubscribe links of mention emails; every instance needs the same. Unset: a
    // random one per process (links stop working after a restart), with a warning at start.
    MENTION_EMAIL_SECRET: z.string().min(32, "must be at least 32 characters").max(512).optional(),
    SEND_RATE_LIMIT: rateLimitRule,
    AUTH_RATE_LIMIT: rateLimitRule,
    FORMS_RATE_LIMIT: rateLimitRule,
    WS_CONNECTIONS_PER_USER: z.coerce
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(defaultLimits.wsConnectionsPerUser),
    EMAIL_RATE_LIMIT: rateLimitRule,
    PASSWORD_RATE_LIMIT: rateLimitRule,
    WRITE_RATE_LIMIT: rateLimitRule,
    TYPING_RATE_LIMIT: rateLimitRule,
    // 0 keeps the audit log forever.
    AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
    AUDIT_PURGE_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
    // The largest attachment, in bytes. An upload is held in memory while its type is checked, so
    // the ceiling is 1 GiB.
    UPLOAD_MAX_BYTES: z.coerce.number().int().min(1).max(1_073_741_824).default(10_485_760),
    // What one user's files (sent, or uploaded and not yet sent) may add up to, in bytes.
    UPLOAD_QUOTA_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(1_073_741_824),
    // An upload not on a message this long after it was asked for is removed.
    UPLOAD_ABANDON_MS: z.coerce.number().int().min(1_000).max(2_592_000_000).default(3_600_000),
    // How often the server removes abandoned uploads and the files of deleted messages.
    UPLOAD_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    /** Where attachment bytes go (see openBlobStore); unset: DATA_DIR/files. */
    s3: env.S3_URL,
    redisUrl: env.REDIS_URL,
    mail: {
      /** smtp:// or smtps:// with credentials; without it, emails are recorded in recorded_emails. */
      smtpUrl: env.SMTP_URL,
      /** The From of every email; unset: "Parley <no-reply@host of the public origin>". */
      from: env.MAIL_FROM,
      /** Where form notifications go; unset: team@host of the public origin. */
      teamAddress: env.TEAM_EMAIL,
    },
    emailWorker: {
      ...defaultEmailWorkerSettings,
      /** Run the worker in the server's process; off when `pnpm worker` processes do it. */
      enabled: env.EMAIL_WORKER === "on",
      pollMs: env.EMAIL_WORKER_POLL_MS,
      leaseMs: env.EMAIL_LEASE_MS,
      backoffBaseMs: env.EMAIL_BACKOFF_MS,
    },
    webhooks: {
      ...defaultWebhookDeliverySettings,
      /** Loopback and private addresses allowed (outside production only). */
      allowPrivate: env.WEBHOOKS_ALLOW_PRIVATE === "true",
      timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    },
    /** Unset: http://localhost:PORT. */
    publicOrigin: env.PUBLIC_ORIGIN,
    allowedOrigins: env.ALLOWED_ORIGINS,
    production: env.NODE_ENV === "production",
    webDistDir: env.WEB_DIST_DIR,
    logLevel: env.LOG_LEVEL,
    logFormat:
      env.LOG_FORMAT ?? (env.NODE_ENV === "development" ? ("pretty on a terminal" as const) : "json"),
    metricsToken: env.METRICS_TOKEN,
    mentionEmails: {
      windowMs: env.MENTION_EMAIL_WINDOW_MINUTES * 60_000,
      secret: env.MENTION_EMAIL_SECRET,
    },
    auditRetention: {
      /** Entries older than this many days are purged; 0: never. */
      days: env.AUDIT_RETENTION_DAYS,
      /** How often the server purges. */
      intervalMs: env.AUDIT_PURGE_INTERVAL_MS,
    },
    uploads: {
      maxBytes: env.UPLOAD_MAX_BYTES,
      quotaBytes: env.UPLOAD_QUOTA_BYTES,
      abandonMs: env.UPLOAD_ABANDON_MS,
      sweepIntervalMs: env.UPLOAD_SWEEP_INTERVAL_MS,
    },
    limits: { ...defaultLimits, wsConnectionsPerUser: env.WS_CONNECTIONS_PER_USER },
    rateLimits: {
      ...defaultRateLimits,
      ...(env.SEND_RATE_LIMIT ? { send: env.SEND_RATE_LIMIT } : {}),
      ...(env.AUTH_RATE_LIMIT ? { auth: env.AUTH_RATE_LIMIT } : {}),
      ...(env.FORMS_RATE_LIMIT ? { forms: env.FORMS_RATE_LIMIT } : {}),
      ...(env.EMAIL_RATE_LIMIT ? { email: env.EMAIL_RATE_LIMIT } : {}),
      ...(env.PASSWORD_RATE_LIMIT ? { password: env.PASSWORD_RATE_LIMIT } : {}),
      ...(env.WRITE_RATE_LIMIT ? { write: env.WRITE_RATE_LIMIT } : {}),
      ...(env.TYPING_RATE_LIMIT ? { typing: env.TYPING_RATE_LIMIT } : {}),
    } satisfies RateLimitRules,
  }));

/** The settings before the defaults that follow from other settings (the public origin's). */
type Settings = z.output<typeof settingsSchema>;

/** The defaults that depend on other settings: the public origin on the port, the addresses on the origin. */
function withDerivedDefaults(settings: Settings) {
  const publicOrigin = settings.publicOrigin ?? `http://localhost:${settings.port}`;
  const host = new URL(publicOrigin).hostname;
  return {
    ...settings,
    publicOrigin,
    mail: {
      smtpUrl: settings.mail.smtpUrl,
      from: settings.mail.from ?? `Parley <no-reply@${host}>`,
      teamAddress: settings.mail.teamAddress ?? `team@${host}`,
    },
  };
}

const configSchema = settingsSchema.transform(withDerivedDefaults);

/** The server's options, and what the worker and the tools run on: see ParleyServerOptions. */
export type Config = z.output<typeof configSchema>;

type Nested =
  | "mail"
  | "emailWorker"
  | "webhooks"
  | "limits"
  | "rateLimits"
  | "mentionEmails"
  | "auditRetention"
  | "uploads";
/** A Config with any part (of the nested objects too) left out; see configWith. */
export type ConfigOverrides = Partial<Omit<Settings, Nested>> & { [K in Nested]?: Partial<Settings[K]> };

/** The entries whose value is not undefined: a key given as undefined means "the default". */
function given<T extends object>(values: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(values ?? {}).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * A Config from some values: the rest is what an empty environment gives, and the derived
 * defaults follow the values given (port 0 without a public origin: http://localhost:0). How
 * tests and the bench start a server with a few options; `configWith(config)` is `config`.
 */
export function configWith(overrides: ConfigOverrides): Config {
  const defaults = settingsSchema.parse({});
  return withDerivedDefaults({
    ...defaults,
    ...given(overrides),
    mail: { ...defaults.mail, ...given(overrides.mail) },
    emailWorker: { ...defaults.emailWorker, ...given(overrides.emailWorker) },
    webhooks: { ...defaults.webhooks, ...given(overrides.webhooks) },
    limits: { ...defaults.limits, ...given(overrides.limits) },
    rateLimits: { ...defaults.rateLimits, ...given(overrides.rateLimits) },
    mentionEmails: { ...defaults.mentionEmails, ...given(overrides.mentionEmails) },
    auditRetention: { ...defaults.auditRetention, ...given(overrides.auditRetention) },
    uploads: { ...defaults.uploads, ...given(overrides.uploads) },
  });
}

/** An example of a good value of each variable, for the message that refuses a bad one. */
const examples: Record<string, string> = {
  PORT: "3000",
  HOST: "127.0.0.1",
  DATABASE_URL: "postgres://parley:secret@localhost:5432/parley",
  DATA_DIR: "./.data",
  S3_URL: "https://ACCESS_KEY_ID:SECRET@s3.eu-west-1.amazonaws.com/parley-files?region=eu-west-1",
  REDIS_URL: "redis://localhost:6379",
  SMTP_URL: "smtp://user:secret@smtp.example.com:587",
  MAIL_FROM: "Parley <no-reply@example.com>",
  TEAM_EMAIL: "team@example.com",
  EMAIL_WORKER: "off",
  EMAIL_WORKER_POLL_MS: "1000",
  EMAIL_LEASE_MS: "60000",
  EMAIL_BACKOFF_MS: "30000",
  WEBHOOKS_ALLOW_PRIVATE: "true",
  WEBHOOK_TIMEOUT_MS: "10000",
  PUBLIC_ORIGIN: "https://chat.example.com",
  ALLOWED_ORIGINS: "https://www.example.com,https://example.com",
  NODE_ENV: "production",
  WEB_DIST_DIR: "apps/web/dist",
  LOG_LEVEL: "debug",
  LOG_FORMAT: "json",
  METRICS_TOKEN: "a-long-random-string-from-your-secret-store",
  SEND_RATE_LIMIT: "20/10",
  AUTH_RATE_LIMIT: "20/60",
  FORMS_RATE_LIMIT: "5/60",
  AUDIT_RETENTION_DAYS: "365",
  AUDIT_PURGE_INTERVAL_MS: "3600000",
  UPLOAD_MAX_BYTES: "10485760",
  UPLOAD_QUOTA_BYTES: "1073741824",
  UPLOAD_ABANDON_MS: "3600000",
  UPLOAD_SWEEP_INTERVAL_MS: "300000",
  WS_CONNECTIONS_PER_USER: "20",
  MENTION_EMAIL_WINDOW_MINUTES: "15",
  MENTION_EMAIL_SECRET: "a-long-random-string-from-your-secret-store",
};

/** A refused environment: its message is one line meant for the person starting the process. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Validates the environment once. An empty variable counts as unset (`DATABASE_URL=` in a shell
 * or an .env file means "no value", never a value that fails validation or, for PORT, becomes 0).
 * A bad variable throws a ConfigError naming it, what is wrong and an example of a good value.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim()));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    // The first problem of each variable: "Invalid URL" and "must be a postgres:// URL" say one thing.
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? "");
      const example = examples[name];
      // The value is not echoed: it may hold a password (DATABASE_URL, SMTP_URL).
      const hint = example && !issue.message.includes("e.g.") ? ` (e.g. ${name}=${example})` : "";
      if (!problems.has(name)) problems.set(name, `${name}: ${issue.message}${hint}`);
    }
    throw new ConfigError(`Invalid configuration: ${[...problems.values()].join("; ")}`);
  }
  return parsed.data;
}

/**
 * For the entry points: the configuration, or one line on stderr and exit code 2 when the
 * environment is refused (no stack trace: nothing in the code is wrong, the environment is).
 */
export function loadConfigOrExit(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
}
