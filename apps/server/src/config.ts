import { z } from "zod";

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

const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z.string().min(1).optional(),
    DATA_DIR: z.string().min(1).default("./.data"),
    REDIS_URL: z.string().min(1).optional(),
    SMTP_URL: z
      .url()
      .refine((value) => /^smtps?:$/.test(new URL(value).protocol), "must be an smtp:// or smtps:// URL")
      .optional(),
    MAIL_FROM: z.string().min(3).max(320).optional(),
    TEAM_EMAIL: z.email().optional(),
    EMAIL_WORKER: z.enum(["on", "off"]).default("on"),
    EMAIL_WORKER_POLL_MS: z.coerce.number().int().min(10).max(3_600_000).default(1_000),
    EMAIL_LEASE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
    EMAIL_BACKOFF_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
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
    SEND_RATE_LIMIT: rateLimitRule,
    AUTH_RATE_LIMIT: rateLimitRule,
    FORMS_RATE_LIMIT: rateLimitRule,
    WS_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).max(10_000).default(20),
    EMAIL_RATE_LIMIT: rateLimitRule,
    PASSWORD_RATE_LIMIT: rateLimitRule,
    WRITE_RATE_LIMIT: rateLimitRule,
    TYPING_RATE_LIMIT: rateLimitRule,
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    redisUrl: env.REDIS_URL,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    teamEmail: env.TEAM_EMAIL,
    emailWorker: {
      enabled: env.EMAIL_WORKER === "on",
      pollMs: env.EMAIL_WORKER_POLL_MS,
      leaseMs: env.EMAIL_LEASE_MS,
      backoffBaseMs: env.EMAIL_BACKOFF_MS,
    },
    publicOrigin: env.PUBLIC_ORIGIN ?? `http://localhost:${env.PORT}`,
    allowedOrigins: env.ALLOWED_ORIGINS,
    production: env.NODE_ENV === "production",
    webDistDir: env.WEB_DIST_DIR,
    logLevel: env.LOG_LEVEL,
    limits: { wsConnectionsPerUser: env.WS_CONNECTIONS_PER_USER },
    rateLimits: {
      ...(env.SEND_RATE_LIMIT ? { send: env.SEND_RATE_LIMIT } : {}),
      ...(env.AUTH_RATE_LIMIT ? { auth: env.AUTH_RATE_LIMIT } : {}),
      ...(env.FORMS_RATE_LIMIT ? { forms: env.FORMS_RATE_LIMIT } : {}),
      ...(env.EMAIL_RATE_LIMIT ? { email: env.EMAIL_RATE_LIMIT } : {}),
      ...(env.PASSWORD_RATE_LIMIT ? { password: env.PASSWORD_RATE_LIMIT } : {}),
      ...(env.WRITE_RATE_LIMIT ? { write: env.WRITE_RATE_LIMIT } : {}),
      ...(env.TYPING_RATE_LIMIT ? { typing: env.TYPING_RATE_LIMIT } : {}),
    },
  }));

export type Config = z.infer<typeof configSchema>;

/** Validates the environment once; a bad variable stops the start with a message naming it. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid configuration:\n${problems}`);
  }
  return parsed.data;
}
