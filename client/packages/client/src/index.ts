/**
 * @realtime-rs/client: typed realtime events from a realtime-rs server (or any server that
 * speaks the `@upstash/realtime` 1.1.0 wire protocol) over Server-Sent Events, with
 * history, presence and emit. Framework-agnostic, no runtime dependencies.
 *
 * ```ts
 * import { createClient } from "@realtime-rs/client";
 *
 * const client = createClient<{ "chat.message": { text: string } }>({ url: "/api/realtime" });
 * const stop = client.subscribe({
 *   channels: ["room-1"],
 *   onEvent: ({ id, data }) => console.log(id, data.text),
 * });
 * await client.emit("room-1", "chat.message", { text: "hi" });
 * stop();
 * ```
 */

export { createClient, type RealtimeClient, type ClientOptions } from "./client.js";
export { RealtimeError, type HeadersSource } from "./http.js";
export type { BackoffOptions } from "./backoff.js";
export type { StreamEnd, StreamRequest, Transport } from "./transport.js";
export type {
  ClientStats,
  EventMap,
  EventName,
  EventSchemas,
  HistoryOptions,
  Member,
  PresenceInfo,
  RealtimeEvent,
  RealtimeIssue,
  StandardIssue,
  StandardResult,
  StandardSchema,
  Status,
  SubscribeOptions,
  TabRole,
  ValidationProblem,
  Validator,
} from "./types.js";
