/**
 * @realtime-rs/react: React hooks for `@realtime-rs/client`. `useRealtime` has the shape
 * of `@upstash/realtime`'s hook, so moving from it is an import change.
 *
 * ```tsx
 * import { RealtimeProvider, createRealtimeHooks } from "@realtime-rs/react";
 *
 * type Events = { "chat.message": { author: string; text: string } };
 * const { useRealtime, useEmit } = createRealtimeHooks<Events>();
 *
 * function Room({ room }: { room: string }) {
 *   const emit = useEmit();
 *   useRealtime({ channels: [room], events: ["chat.message"], onData: ({ data }) => show(data.text) });
 *   return <button onClick={() => emit(room, "chat.message", { author: "me", text: "hi" })}>hi</button>;
 * }
 *
 * <RealtimeProvider api={{ url: "/api/realtime" }}><Room room="room-1" /></RealtimeProvider>;
 * ```
 */

export { RealtimeProvider, useClient, type RealtimeProviderProps } from "./provider.js";
export {
  useEmit,
  useHistory,
  usePresence,
  useRealtime,
  useStatus,
  type Emit,
  type HistoryState,
  type UseRealtimeOptions,
} from "./hooks.js";
export { createRealtimeHooks, type RealtimeHooks } from "./typed.js";
