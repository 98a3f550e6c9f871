/**
 * One event-stream connection over `fetch` (not `EventSource`, so that headers such as
 * `Authorization` can be sent and reconnects are the client's): the request with each
 * channel's cursor, the SSE parser, and a watchdog that gives up on a silent connection.
 */

import { retryAfterMs } from "./backoff.js";
import { errorOf } from "./http.js";
import { createParser } from "./parser.js";

/** What one connection asks for. */
export interface StreamRequest {
  /** The endpoint, e.g. `/api/realtime`. */
  readonly url: string;
  /** The channels, in order. */
  readonly channels: readonly string[];
  /** Where each channel resumes: the last id it saw (channels without one start now). */
  readonly cursors: ReadonlyMap<string, string>;
  readonly headers: Record<string, string>;
  readonly fetch: typeof fetch;
  readonly credentials: RequestCredentials | undefined;
  /** A connection that sends nothing for this long is dead (the server pings). */
  readonly deadAfterMs: number;
}

/** How a connection ended. */
export type StreamEnd =
  | { readonly kind: "aborted" }
  | { readonly kind: "reconnect" }
  | { readonly kind: "ended"; readonly message: string }
  | { readonly kind: "refused"; readonly status: number; readonly message: string; readonly retryAfterMs: number | undefined };

/** The URL of a stream for `channels` resuming from `cursors`. */
export function streamUrl(url: string, channels: readonly string[], cursors: ReadonlyMap<string, string>): string {
  const query: string[] = [];
  for (const channel of channels) query.push(`channel=${encodeURIComponent(channel)}`);
  for (const channel of channels) {
    const cursor = cursors.get(channel);
    if (cursor !== undefined) query.push(`last_ack_${encodeURIComponent(channel)}=${encodeURIComponent(cursor)}`);
  }
  return `${url}${url.includes("?") ? "&" : "?"}${query.join("&")}`;
}

/**
 * Opens the stream and reads it until it ends, calling `onOpen` once the server accepted
 * it and `onFrame` with each frame's JSON (or the raw text when it is not JSON).
 */
export async function readStream(
  request: StreamRequest,
  signal: AbortSignal,
  onOpen: () => void,
  onFrame: (frame: unknown, raw: string) => void,
): Promise<StreamEnd> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  signal.addEventListener("abort", abort, { once: true });
  let dead = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const watch = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      dead = true;
      controller.abort();
    }, request.deadAfterMs);
  };
  const ended = (message: string): StreamEnd =>
    signal.aborted ? { kind: "aborted" } : { kind: "ended", message: dead ? `no data for ${request.deadAfterMs} ms` : message };
  let reconnect = false;
  try {
    watch();
    const response = await request.fetch(streamUrl(request.url, request.channels, request.cursors), {
      headers: { Accept: "text/event-stream", ...request.headers },
      signal: controller.signal,
      cache: "no-store",
      ...(request.credentials === undefined ? {} : { credentials: request.credentials }),
    });
    const type = response.headers.get("content-type") ?? "";
    if (!response.ok || !type.startsWith("text/event-stream") || response.body === null) {
      const delay = retryAfterMs(response.headers.get("retry-after"));
      const error = await errorOf(response, delay);
      return { kind: "refused", status: response.status, message: error.message, retryAfterMs: delay };
    }
    onOpen();
    const parser = createParser((message) => {
      let frame: unknown = message.data;
      try {
        frame = JSON.parse(message.data);
      } catch {
        // Handed on as text: the client reports it.
      }
      if (isReconnect(frame)) reconnect = true;
      onFrame(frame, message.data);
    });
    const reader = response.body.getReader();
    for (;;) {
      watch();
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(value);
      if (reconnect) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
    return reconnect ? { kind: "reconnect" } : ended("the server ended the stream");
  } catch (error) {
    return ended(error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(watchdog);
    signal.removeEventListener("abort", abort);
  }
}

function isReconnect(frame: unknown): boolean {
  return typeof frame === "object" && frame !== null && (frame as { type?: unknown }).type === "reconnect";
}
