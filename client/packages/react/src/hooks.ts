/**
 * The hooks. Each subscription is an effect that unsubscribes in its cleanup; the client
 * debounces channel changes, so StrictMode's unmount-and-mount (or any unsubscribe followed
 * by a subscribe in the same tick) makes no reconnect. Callbacks are read through a ref:
 * a new `onData` on every render does not resubscribe.
 */

import type {
  EventMap,
  EventName,
  HistoryOptions,
  Member,
  PresenceInfo,
  RealtimeEvent,
  RealtimeIssue,
  Status,
} from "@realtime-rs/client";
import { useCallback, useEffect, useInsertionEffect, useRef, useState, useSyncExternalStore } from "react";
import { useClient } from "./provider.js";

/** What `useRealtime` takes: `@upstash/realtime`'s options, plus `history` and `onError`. */
export interface UseRealtimeOptions<Events extends EventMap, Name extends EventName<Events> = EventName<Events>> {
  /** The channels; default `["default"]`. `undefined` entries are skipped; none left: no subscription. */
  readonly channels?: readonly (string | undefined)[];
  /** Only these events; missing or empty: every event. */
  readonly events?: readonly Name[];
  /** Called once per event, in id order per channel, with `{ id, channel, event, data }`. */
  readonly onData?: (event: RealtimeEvent<Events, Name>) => void;
  /** Called for an event that breaks its schema (default: the client's `onError`). */
  readonly onError?: (issue: RealtimeIssue) => void;
  /** `false`: no subscription. Default `true`. */
  readonly enabled?: boolean;
  /** Start with this many of each channel's newest stored events (the history route). */
  readonly history?: number;
}

/**
 * Subscribes to events while mounted, with `@upstash/realtime`'s options and result.
 * The subscription changes only when `channels`, `events`, `history` or `enabled` change.
 */
export function useRealtime<Events extends EventMap, const Name extends EventName<Events> = EventName<Events>>(
  options: UseRealtimeOptions<Events, Name>,
): { readonly status: Status["state"] } {
  const client = useClient<Events>();
  const latest = useLatest(options);
  const { channels = ["default"], events, enabled = true, history = 0 } = options;
  const key = JSON.stringify([channels.filter(Boolean), events?.length ? events : 0, history]);
  useEffect(() => {
    const [wanted, only, first] = JSON.parse(key) as [string[], Name[] | 0, number];
    if (!enabled || !wanted.length) return;
    return client.subscribe<Name>({
      channels: wanted,
      ...(only ? { events: only } : {}),
      history: first,
      onEvent: (event) => latest.current.onData?.(event),
      ...(latest.current.onError ? { onError: (issue: RealtimeIssue) => latest.current.onError?.(issue) } : {}),
    });
  }, [client, enabled, key]);
  return { status: useStatus().state };
}

/** The connection's status, re-rendering on each change. */
export function useStatus(): Status {
  const client = useClient();
  const subscribe = useCallback((changed: () => void) => client.onStatus(changed), [client]);
  const read = (): Status => client.status;
  return useSyncExternalStore(subscribe, read, read);
}

const NOBODY: readonly never[] = [];

/**
 * The members of a channel's presence (sorted by member id), kept current; `[]` while
 * they are read, and for `undefined`.
 */
export function usePresence<Events extends EventMap = EventMap>(
  channel: string | undefined,
): readonly Member<PresenceInfo<Events>>[] {
  const client = useClient<Events>();
  const [seen, setSeen] = useState<{ channel?: string; members: readonly Member<PresenceInfo<Events>>[] }>({
    members: NOBODY,
  });
  useEffect(() => {
    if (channel !== undefined) return client.presence(channel, (members) => setSeen({ channel, members }));
  }, [client, channel]);
  return seen.channel === channel ? seen.members : NOBODY;
}

/** `emit(channel, event, data)`: resolves to the stored event's id (see the client's `emit`). */
export type Emit<Events extends EventMap> = <Name extends EventName<Events>>(
  channel: string,
  event: Name,
  data: Events[Name],
) => Promise<string>;

/** The client's `emit`, stable across renders. */
export function useEmit<Events extends EventMap = EventMap>(): Emit<Events> {
  const client = useClient<Events>();
  return useCallback<Emit<Events>>((channel, event, data) => client.emit(channel, event, data), [client]);
}

/** What `useHistory` returns. */
export interface HistoryState<Events extends EventMap, Name extends EventName<Events> = EventName<Events>> {
  /** The events read, in id order; `[]` until the first read of this channel and options. */
  readonly events: readonly RealtimeEvent<Events, Name>[];
  /** A read is under way. */
  readonly loading: boolean;
  /** Why the last read failed (a `RealtimeError` from the client). */
  readonly error: Error | undefined;
  /** Reads again (the events shown stay until the new ones come). */
  readonly reload: () => void;
}

/**
 * A channel's stored events (the endpoint's history route), read when the channel or the
 * options change and on `reload()`. `undefined`: nothing is read.
 */
export function useHistory<Events extends EventMap, const Name extends EventName<Events> = EventName<Events>>(
  channel: string | undefined,
  options: HistoryOptions<Name> = {},
): HistoryState<Events, Name> {
  const client = useClient<Events>();
  const query = JSON.stringify([channel, options]);
  const [reads, setReads] = useState(0);
  const [read, setRead] = useState<{
    query?: string;
    reads?: number;
    events: readonly RealtimeEvent<Events, Name>[];
    error?: Error;
  }>({ events: NOBODY });
  useEffect(() => {
    const [wanted, asked] = JSON.parse(query) as [string | undefined, HistoryOptions<Name>];
    if (wanted === undefined) return;
    let current = true;
    client.history<Name>(wanted, asked).then(
      (events) => current && setRead({ query, reads, events }),
      (error: Error) => current && setRead({ query, reads, events: NOBODY, error }),
    );
    return () => {
      current = false;
    };
  }, [client, query, reads]);
  const same = read.query === query;
  return {
    events: same ? read.events : NOBODY,
    loading: channel !== undefined && (!same || read.reads !== reads),
    error: same ? read.error : undefined,
    reload: useCallback(() => setReads((count) => count + 1), []),
  };
}

/** A ref that always holds the last committed `value`. */
function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  useInsertionEffect(() => {
    ref.current = value;
  });
  return ref;
}
