/**
 * One event-stream connection over `fetch` (not `EventSource`, so that headers such as
 * `Authorization` can be sent and reconnects are the client's): the request with each
 * channel's cursor, the SSE parser, and a watchdog that gives up on a silent connection.
 */

import { errorOf, messageOf, routeUrl } from "./http.js";
import { createParser } from "./parser.js";
import type { Status } from "./types.js";

/**
 * How a connection ended: `undefined` when it was aborted or the server asked for a
 * reconnect (the client reconnects at once); otherwise why, with the HTTP status and
 * `Retry-After` when the server refused it.
 */
export type StreamEnd =
  | { readonly message: string; readonly status?: number; readonly retryAfterMs?: number | undefined }
  | undefined;

/** The URL of a stream for `channels` resuming from `cursors` (`last_ack_<channel>`). */
export function streamUrl(url: string, channels: readonly string[], cursors: ReadonlyMap<string, string>): string {
  return routeUrl(url, "", [
    ...channels.map((channel) => ["channel", channel] as const),
    ...channels.map((channel) => [`last_ack_${channel}`, cursors.get(channel)] as const),
  ]);
}

/**
 * What a `Transport` is asked for: a stream of `channels` from the endpoint at `url`, each
 * resuming after its cursor in `cursors`.
 */
export interface StreamRequest {
  /** The endpoint (the client's `url`). */
  readonly url: string;
  /** The channels, sorted. */
  readonly channels: readonly string[];
  /** Each channel's cursor: the id of the last event the client delivered (or was told of). */
  readonly cursors: ReadonlyMap<string, string>;
  /** The request's `init` (headers made now, credentials, `Accept`), without a signal. */
  readonly init: () => Promise<RequestInit>;
  /** The client's `fetch`. */
  readonly fetch: typeof fetch;
  /** Aborting it ends the stream (the client's channels changed, or it closed). */
  readonly connection: AbortController;
  /** A stream silent this long is dead (the server pings every half of it). */
  readonly deadAfterMs: number;
  /** The stream is open (the client's status becomes `connected`). */
  readonly onOpen: () => void;
  /** Each frame's JSON (or its raw text when it is not JSON) and its raw text. */
  readonly onFrame: (frame: unknown, raw: string) => void;
  /** Sets the client's status (e.g. a shared stream's reconnects, seen by every tab). */
  readonly setStatus: (status: Status) => void;
}

/**
 * How a client gets its event stream: the promise settles when the stream ends (see
 * `StreamEnd`). The default opens one per client (`readStream`); `shareAcrossTabs()`, from
 * `@realtime-rs/client/tabs`, one per browser for all its tabs.
 */
export type Transport = (request: StreamRequest) => Promise<StreamEnd>;

/**
 * Opens the stream for `request` and reads it until it ends, calling `onOpen` once the
 * server accepted it and `onFrame` with each frame. `connection` aborts it; so does the
 * watchdog, when nothing came for `deadAfterMs` (the server pings).
 */
export async function readStream(request: StreamRequest): Promise<StreamEnd> {
  const { connection, deadAfterMs, onFrame } = request;
  let dead = false;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const watch = (): void => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      dead = true;
      connection.abort();
    }, deadAfterMs);
  };
  const ended = (message: string): StreamEnd =>
    dead ? { message: `no data for ${deadAfterMs} ms` } : connection.signal.aborted ? undefined : { message };
  let reconnect = false;
  try {
    watch();
    const response = await request.fetch(streamUrl(request.url, request.channels, request.cursors), {
      ...(await request.init()),
      signal: connection.signal,
    });
    if (!response.ok || !response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) {
      return await errorOf(response); // its message, status and retryAfterMs
    }
    request.onOpen();
    const parser = createParser(({ data }) => {
      let frame: unknown = data;
      try {
        frame = JSON.parse(data);
      } catch {
        // Handed on as text: the client reports it.
      }
      reconnect ||= (frame as { type?: unknown } | null)?.type === "reconnect";
      onFrame(frame, data);
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
    return reconnect ? undefined : ended("the stream ended");
  } catch (error) {
    return ended(messageOf(error));
  } finally {
    clearTimeout(watchdog);
  }
}
