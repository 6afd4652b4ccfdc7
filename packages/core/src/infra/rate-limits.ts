/// <reference path="./rate-limiter-flexible-lib.d.ts" />
import type { Redis } from "ioredis";
import type { RateLimiterAbstract } from "rate-limiter-flexible";
import RateLimiterMemory from "rate-limiter-flexible/lib/RateLimiterMemory.js";
import RateLimiterRedis from "rate-limiter-flexible/lib/RateLimiterRedis.js";
import RateLimiterRes from "rate-limiter-flexible/lib/RateLimiterRes.js";
import {
  defaultRateLimits,
  type RateLimitName,
  type RateLimitRule,
  type RateLimitRules,
} from "./rate-limit-rules.ts";

export { defaultRateLimits, type RateLimitName, type RateLimitRule, type RateLimitRules };

export type RateLimiters = Record<RateLimitName, RateLimiterAbstract>;

const RATE_LIMIT_NAMES = Object.keys(defaultRateLimits) as RateLimitName[];

/**
 * Why a call was answered TOO_MANY_REQUESTS: the limit that refused it (a rate limiter's name,
 * or a fixed cap), for the operator's log line; the caller sees only the message.
 */
export class LimitReachedError extends Error {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super(message);
    this.name = "LimitReachedError";
  }
}

export class RateLimitedError extends LimitReachedError {
  constructor(
    readonly retryAfterMs: number,
    limit: RateLimitName,
  ) {
    super(limit, `Too many requests: retry in ${retryAfterSeconds(retryAfterMs)} s`);
    this.name = "RateLimitedError";
  }
}

/** Whole seconds, at least 1: what a Retry-After header says. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** The Retry-After header for a response whose errors include rate-limit refusals: the longest wait. */
export function retryAfterHeader(errors: readonly { cause?: unknown }[]): Record<string, string> {
  let longest = -1;
  for (const error of errors) {
    if (error.cause instanceof RateLimitedError) longest = Math.max(longest, error.cause.retryAfterMs);
  }
  return longest < 0 ? {} : { "retry-after": String(retryAfterSeconds(longest)) };
}

function buildLimiters(create: (name: RateLimitName) => RateLimiterAbstract): RateLimiters {
  return Object.fromEntries(RATE_LIMIT_NAMES.map((name) => [name, create(name)])) as RateLimiters;
}

/** In-process counters: right for one instance (Redis-backed ones replace them for several). */
export function createMemoryRateLimiters(rules: RateLimitRules): RateLimiters {
  return buildLimiters(
    (name) =>
      new RateLimiterMemory({
        keyPrefix: name,
        points: rules[name].points,
        duration: rules[name].durationSeconds,
      }),
  );
}

/** Takes one point for each key from the named limiter; throws RateLimitedError when any has none left. */
export async function consumePoint(
  limiters: RateLimiters,
  name: RateLimitName,
  ...keys: string[]
): Promise<void> {
  const limiter = limiters[name];
  for (const key of keys) {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw new RateLimitedError(rejection.msBeforeNext, name);
      throw rejection;
    }
  }
}

/**
 * Counters in Redis, shared by every instance. If Redis stops answering, each instance falls
 * back to its own in-memory counters (the insurance limiter) rather than refusing everyone.
 */
export function createRedisRateLimiters(redis: Redis, rules: RateLimitRules): RateLimiters {
  return buildLimiters(
    (name) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `ratelimit:${name}`,
        points: rules[name].points,
        duration: rules[name].durationSeconds,
        insuranceLimiter: new RateLimiterMemory({
          points: rules[name].points,
          duration: rules[name].durationSeconds,
        }),
      }),
  );
}
