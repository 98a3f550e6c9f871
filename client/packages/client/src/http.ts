/** Requests to the endpoint's routes, and the error they reject with. */

import { retryAfterMs } from "./backoff.js";

/** Headers for a request: fixed, or made per request (e.g. a fresh access token). */
export type HeadersSource =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

/** A refusal from the server, or a request that could not be made. */
export class RealtimeError extends Error {
  // Declared, not defined: the constructor assigns them (what it is given).
  /** The HTTP status; 0 when no answer came (network error, timeout). */
  declare readonly status: number;
  /** The event the server named (422). */
  declare readonly event: string | undefined;
  /** The JSON path of the invalid part of the data (422). */
  declare readonly path: string | undefined;
  /** The schema rule that failed (422). */
  declare readonly rule: string | undefined;
  /** The delay the server asked for before a retry (`Retry-After`), in ms. */
  declare readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    status: number,
    details: {
      event?: string | undefined;
      path?: string | undefined;
      rule?: string | undefined;
      retryAfterMs?: number | undefined;
    } = {},
  ) {
    super(message);
    Object.assign(this, details, { name: "RealtimeError", status });
  }

  /** Whether the same request may succeed later: no answer, 503 or 504. */
  get retryable(): boolean {
    return [0, 503, 504].includes(this.status);
  }
}

/** The `{ error, event, path, rule }` body of a refusal, as a `RealtimeError`. */
export async function errorOf(response: Response): Promise<RealtimeError> {
  // `Object()`: a body that is no JSON object (or none) has none of these fields.
  const { error, event, path, rule } = Object(await response.json().catch(() => undefined)) as Record<string, unknown>;
  return new RealtimeError(typeof error === "string" ? error : `HTTP ${response.status}`, response.status, {
    event: event as string | undefined,
    path: path as string | undefined,
    rule: rule as string | undefined,
    retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
  });
}

/**
 * `url`'s `route` (`""`: `url` itself) with `params` added to its query; a parameter left
 * undefined is not sent, a list is sent as the parameter repeated.
 */
export function routeUrl(url: string, route: string, params: Iterable<readonly [string, unknown]>): string {
  const [base = "", search] = url.split("?");
  const query = new URLSearchParams(search);
  for (const [key, value] of params) for (const item of [value ?? []].flat()) query.append(key, String(item));
  return `${route ? `${base.replace(/\/$/, "")}/${route}` : base}?${query}`;
}

/** What was thrown, as text. */
export function messageOf(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}

/** A promise that resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done);
    if (signal?.aborted) done();
  });
}
