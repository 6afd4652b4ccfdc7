import { z } from "zod";

const origin = z
  .url()
  .transform((value) => new URL(value).origin)
  .refine((value) => value !== "null", "must be an http(s) origin");

const configSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    HOST: z.string().min(1).default("127.0.0.1"),
    DATABASE_URL: z.string().min(1).optional(),
    DATA_DIR: z.string().min(1).default("./.data"),
    REDIS_URL: z.string().min(1).optional(),
    SMTP_URL: z.string().min(1).optional(),
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
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  })
  .transform((env) => ({
    port: env.PORT,
    host: env.HOST,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    redisUrl: env.REDIS_URL,
    smtpUrl: env.SMTP_URL,
    publicOrigin: env.PUBLIC_ORIGIN ?? `http://localhost:${env.PORT}`,
    allowedOrigins: env.ALLOWED_ORIGINS,
    production: env.NODE_ENV === "production",
    logLevel: env.LOG_LEVEL,
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
