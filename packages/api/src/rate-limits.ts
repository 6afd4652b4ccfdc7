import type { Redis } from "ioredis";
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";

/** `points` calls per `durationSeconds`, per key. */
export interface RateLimitRule {
  points: number;
  durationSeconds: number;
}

/** The limits the API applies: per user for sending, per IP for the unauthenticated doors. */
export interface RateLimitRules {
  /** chat.messages.send, per user. */
  send: RateLimitRule;
  /** register, login, password reset requests, per IP. */
  auth: RateLimitRule;
  /** contact and demo forms, per IP. */
  forms: RateLimitRule;
}

export type RateLimitName = keyof RateLimitRules;
export type RateLimiters = Record<RateLimitName, RateLimiterAbstract>;

export const defaultRateLimits: RateLimitRules = {
  send: { points: 20, durationSeconds: 10 },
  auth: { points: 20, durationSeconds: 60 },
  forms: { points: 5, durationSeconds: 60 },
};

export class RateLimitedError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`Too many requests: retry in ${Math.ceil(retryAfterMs / 1000)} s`);
    this.name = "RateLimitedError";
  }
}

/** In-process counters: right for one instance (Redis-backed ones replace them for several). */
export function createMemoryRateLimiters(rules: RateLimitRules): RateLimiters {
  const limiter = (name: RateLimitName) =>
    new RateLimiterMemory({
      keyPrefix: name,
      points: rules[name].points,
      duration: rules[name].durationSeconds,
    });
  return { send: limiter("send"), auth: limiter("auth"), forms: limiter("forms") };
}

/** Takes one point for `key`; throws RateLimitedError when none is left. */
export async function consumePoint(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) throw new RateLimitedError(rejection.msBeforeNext);
    throw rejection;
  }
}

/**
 * Counters in Redis, shared by every instance. If Redis stops answering, each instance falls
 * back to its own in-memory counters (the insurance limiter) rather than refusing everyone.
 */
export function createRedisRateLimiters(redis: Redis, rules: RateLimitRules): RateLimiters {
  const limiter = (name: RateLimitName) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `ratelimit:${name}`,
      points: rules[name].points,
      duration: rules[name].durationSeconds,
      insuranceLimiter: new RateLimiterMemory({
        points: rules[name].points,
        duration: rules[name].durationSeconds,
      }),
    });
  return { send: limiter("send"), auth: limiter("auth"), forms: limiter("forms") };
}
