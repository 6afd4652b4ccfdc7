/** `points` calls per `durationSeconds`, per key. */
export interface RateLimitRule {
  points: number;
  durationSeconds: number;
}

/**
 * The limits the API applies. A few named limiters shared by procedures of the same cost,
 * rather than one per procedure: each procedure that hashes, sends email, writes or fans out
 * takes a point from one of them.
 */
export interface RateLimitRules {
  /** chat.messages.send, per user. */
  send: RateLimitRule;
  /** register, login, password reset requests and resets, per IP. */
  auth: RateLimitRule;
  /** contact and demo forms, per IP. */
  forms: RateLimitRule;
  /** Emails to one inbox: per user and per recipient address (resend verification, reset requests). */
  email: RateLimitRule;
  /** changePassword (two argon2 runs), per user. */
  password: RateLimitRule;
  /** Other writes (rooms, members, read markers, edits, reactions, admin changes), per user. */
  write: RateLimitRule;
  /** chat.typing, fanned out to the room, per user. */
  typing: RateLimitRule;
}

export type RateLimitName = keyof RateLimitRules;

export const defaultRateLimits: RateLimitRules = {
  send: { points: 20, durationSeconds: 10 },
  auth: { points: 20, durationSeconds: 60 },
  forms: { points: 5, durationSeconds: 60 },
  email: { points: 5, durationSeconds: 900 },
  password: { points: 5, durationSeconds: 300 },
  write: { points: 120, durationSeconds: 60 },
  // The web app says "typing" at most every 3 s per room.
  typing: { points: 10, durationSeconds: 10 },
};
