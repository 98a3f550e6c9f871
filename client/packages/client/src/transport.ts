/**
 * One event-stream connection over `fetch` (not `EventSource`, so that headers such as
 * `Authorization` can be sent and reconnects are the client's): the request with each
 * channel's cursor, the SSE parser, and a watchdog that gives up on a silent connection.
 */

import { errorOf, messageOf } from "./http.js";
import { createParser } from "./parser.js";

/**
 * How a connection ended: `undefined` when it was aborted or the server asked for a
 * reconnect (the client reconnects at once); otherwise why, with the HTTP status and
 * `Retry-After` when the server refused it.
 */
export type StreamEnd =
  | { readonly message: string; readonly status?: number; readonly retryAfterMs?: number | undefined }
  | undefined;

/** The URL of a stream for `channels` resuming from `cursors`. */
export function streamUrl(url: string, channels: readonly string[], cursors: ReadonlyMap<string, string>): string {
  const encode = encodeURIComponent;
  const query = channels.map((channel) => `channel=${encode(channel)}`);
  for (const channel of channels) {
    const cursor = cursors.get(channel);
    if (cursor) query.push(`last_ack_${encode(channel)}=${encode(cursor)}`);
  }
  return `${url}${url.includes("?") ? "&" : "?"}${query.join("&")}`;
}

/**
 * Opens the stream (`init`: the request's headers, credentials and `connection`'s signal;
 * `url`: see `streamUrl`) and reads it until it ends, calling `onOpen` once the server
 * accepted it and `onFrame` with each frame's JSON (or the raw text when it is not JSON).
 * `connection` aborts it; so does the watchdog, when nothing came for `deadAfterMs` (the
 * server pings).
 */
export async function readStream(
  init: RequestInit,
  url: string,
  fetcher: typeof fetch,
  connection: AbortController,
  deadAfterMs: number,
  onOpen: () => void,
  onFrame: (frame: unknown, raw: string) => void,
): Promise<StreamEnd> {
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
    const response = await fetcher(url, init);
    if (!response.ok || !response.headers.get("content-type")?.startsWith("text/event-stream") || !response.body) {
      return await errorOf(response); // its message, status and retryAfterMs
    }
    onOpen();
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
