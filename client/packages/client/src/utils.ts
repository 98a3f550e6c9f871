/**
 * `@realtime-rs/client/utils`: the pieces the client is made of, for code that speaks the
 * protocol itself (a server-side consumer, a custom `Transport`): event ids and their
 * order, the reconnect backoff, the event-stream parser. Its own entry point, so that a
 * client that needs none of them ships no names for them.
 *
 * ```ts
 * import { compareIds, isEventId } from "@realtime-rs/client/utils";
 *
 * const newest = ["2-0", "10-0"].filter(isEventId).sort(compareIds).at(-1); // "10-0"
 * ```
 */

export { backoffDelay, retryAfterMs, type BackoffOptions } from "./backoff.js";
export { compareIds, isEventId, nextId, ORIGIN_ID } from "./ids.js";
export { createParser, type SseMessage, type SseParser } from "./parser.js";
export { readStream, streamUrl } from "./transport.js";
