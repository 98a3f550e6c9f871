/** Requests to the endpoint's routes, and the error they reject with. */

/** Headers for a request: fixed, or made per request (e.g. a fresh access token). */
export type HeadersSource =
  | Record<string, string>
  | (() => Record<string, string> | Promise<Record<string, string>>);

/** A refusal from the server, or a request that could not be made. */
export class RealtimeError extends Error {
  /** The HTTP status; 0 when no answer came (network error, timeout). */
  readonly status: number;
  /** The event the server named (422). */
  readonly event: string | undefined;
  /** The JSON path of the invalid part of the data (422). */
  readonly path: string | undefined;
  /** The schema rule that failed (422). */
  readonly rule: string | undefined;
  /** The delay the server asked for before a retry (`Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;

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
    this.name = "RealtimeError";
    this.status = status;
    this.event = details.event;
    this.path = details.path;
    this.rule = details.rule;
    this.retryAfterMs = details.retryAfterMs;
  }

  /** Whether the same request may succeed later: no answer, 503 or 504. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 503 || this.status === 504;
  }
}

/** Resolves `source` to the headers of one request. */
export async function headersOf(source: HeadersSource | undefined): Promise<Record<string, string>> {
  if (source === undefined) return {};
  return typeof source === "function" ? await source() : source;
}

/** The `{ error, event, path, rule }` body of a refusal, as a `RealtimeError`. */
export async function errorOf(response: Response, retryAfterMs: number | undefined): Promise<RealtimeError> {
  const body: unknown = await response.json().catch(() => undefined);
  const { error, event, path, rule } = (typeof body === "object" && body !== null ? body : {}) as Record<string, string>;
  return new RealtimeError(typeof error === "string" ? error : `HTTP ${response.status}`, response.status, {
    event,
    path,
    rule,
    retryAfterMs,
  });
}

/** A promise that resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
