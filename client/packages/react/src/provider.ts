/**
 * The provider: one client per provider, shared by every hook below it. The client lives
 * as long as the provider, so its cursors outlive the hooks' subscriptions (a channel left
 * and joined again resumes where it stopped).
 */

import { createClient, type ClientOptions, type EventMap, type RealtimeClient } from "@realtime-rs/client";
import { createContext, createElement, useContext, useEffect, useRef, useState, type ReactNode } from "react";

const RealtimeContext = createContext<RealtimeClient<EventMap> | null>(null);

/** What `RealtimeProvider` takes: a `client`, or the options of the one it makes. */
export interface RealtimeProviderProps<Events extends EventMap = EventMap> {
  readonly children?: ReactNode;
  /** The client to share; the app made it and closes it. */
  readonly client?: RealtimeClient<Events>;
  /**
   * The options of the client the provider makes when no `client` is given: read once, on
   * the first render; the provider closes that client when it unmounts.
   */
  readonly options?: ClientOptions<Events>;
  /**
   * `@upstash/realtime`'s form of the endpoint, so that moving is an import change:
   * `url` (default `/api/realtime`) and `withCredentials` (cookies to a cross-origin
   * endpoint). `options` wins where both say something.
   */
  readonly api?: { readonly url?: string; readonly withCredentials?: boolean };
  /** Accepted for `@upstash/realtime`'s props and ignored: this client never stops retrying. */
  readonly maxReconnectAttempts?: number;
}

/** Shares one client with the hooks below it. */
export function RealtimeProvider<Events extends EventMap = EventMap>(props: RealtimeProviderProps<Events>): ReactNode {
  const { api } = props;
  const [owned] = useState(() =>
    props.client
      ? undefined
      : createClient<Events>({
          ...(api?.url ? { url: api.url } : {}),
          ...(api?.withCredentials ? { credentials: "include" as const } : {}),
          ...props.options,
        }),
  );
  // StrictMode unmounts and mounts again at once: the close waits a task, and a mount in
  // the meantime cancels it, so the client and its cursors survive.
  const closing = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    if (!owned) return;
    clearTimeout(closing.current);
    return () => {
      closing.current = setTimeout(() => owned.close());
    };
  }, [owned]);
  const client = (props.client ?? owned) as RealtimeClient<EventMap>;
  return createElement(RealtimeContext.Provider, { value: client }, props.children);
}

/** The provider's client; throws outside a `RealtimeProvider`. */
export function useClient<Events extends EventMap = EventMap>(): RealtimeClient<Events> {
  const client = useContext(RealtimeContext);
  if (!client) throw new Error("@realtime-rs/react: no <RealtimeProvider> above this component");
  return client as unknown as RealtimeClient<Events>;
}
