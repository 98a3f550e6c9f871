/**
 * The hooks bound to an app's event set, as the generated module exports them:
 *
 * ```ts
 * export const { useRealtime, useHistory, useEmit, usePresence, useStatus } = createRealtimeHooks<Events>();
 * ```
 */

import type { EventMap, EventName, HistoryOptions, Member, PresenceInfo, RealtimeClient, Status } from "@realtime-rs/client";
import type { ReactNode } from "react";
import {
  useEmit,
  useHistory,
  usePresence,
  useRealtime,
  useStatus,
  type Emit,
  type HistoryState,
  type UseRealtimeOptions,
} from "./hooks.js";
import { RealtimeProvider, useClient, type RealtimeProviderProps } from "./provider.js";

/** The hooks of one event set: the generic hooks with `Events` fixed. */
export interface RealtimeHooks<Events extends EventMap> {
  readonly RealtimeProvider: (props: RealtimeProviderProps<Events>) => ReactNode;
  readonly useRealtime: <const Name extends EventName<Events> = EventName<Events>>(
    options: UseRealtimeOptions<Events, Name>,
  ) => { readonly status: Status["state"] };
  readonly useStatus: () => Status;
  readonly usePresence: (channel: string | undefined) => readonly Member<PresenceInfo<Events>>[];
  readonly useEmit: () => Emit<Events>;
  readonly useHistory: <const Name extends EventName<Events> = EventName<Events>>(
    channel: string | undefined,
    options?: HistoryOptions<Name>,
  ) => HistoryState<Events, Name>;
  readonly useClient: () => RealtimeClient<Events>;
}

/** The hooks typed by `Events` (the same functions: this costs nothing at run time). */
export function createRealtimeHooks<Events extends EventMap>(): RealtimeHooks<Events> {
  return { RealtimeProvider, useRealtime, useStatus, usePresence, useEmit, useHistory, useClient };
}
