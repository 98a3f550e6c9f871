/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random delay up to a
 * cap that doubles with each failed attempt), so that clients that lost the same server do
 * not come back in the same second.
 */

/** The bounds of the backoff. */
export interface BackoffOptions {
  /** The cap of the first retry's delay; default 500 ms. */
  readonly minMs?: number;
  /** The largest cap; default 30 s. */
  readonly maxMs?: number;
}

/** The delay before retry number `attempt` (1 for the first retry). */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const min = options.minMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const cap = Math.min(max, min * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  return Math.round(random() * cap);
}

/**
 * The delay a `Retry-After` header asks for, if it is a number of seconds (the form servers
 * send with a 503; an HTTP date is not read).
 */
export function retryAfterMs(header: string | null): number | undefined {
  return header && /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : undefined;
}
