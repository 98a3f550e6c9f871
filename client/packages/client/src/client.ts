/**
 * The client: every subscription shares one event stream; a change of channels reconnects
 * once (debounced) and each channel resumes from its own cursor, which lives as long as the
 * client. Each event reaches each subscription once, in id order per channel.
 */

import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { errorOf, messageOf, RealtimeError, routeUrl, sleep, type HeadersSource } from "./http.js";
import { compareIds, isEventId, nextId, ORIGIN_ID } from "./ids.js";
import { readStream, type StreamEnd, type Transport } from "./transport.js";
import type {
  ClientStats,
  EventMap,
  EventName,
  HistoryOptions,
  Member,
  PresenceInfo,
  RealtimeEvent,
  RealtimeIssue,
  Status,
  SubscribeOptions,
  Validator,
} from "./types.js";

/** What `createClient` takes. */
export interface ClientOptions<Events extends EventMap> {
  /** The endpoint; default `/api/realtime`. */
  readonly url?: string;
  /** Headers of every request (e.g. `Authorization`), or a function made per request. */
  readonly headers?: HeadersSource;
  /** `fetch`'s `credentials` (cookies on a cross-origin endpoint: `"include"`). */
  readonly credentials?: RequestCredentials;
  /**
   * Checks each event's data: incoming events that fail are left out and reported, emits
   * that fail are refused before they are sent. Made by `validateWith(schemas)` from
   * `@realtime-rs/client/validate` (the generated module passes it); none by default.
   */
  readonly validate?: Validator;
  /** The server's ping interval; a stream silent for twice as long is replaced. Default 30 s. */
  readonly keepaliveMs?: number;
  /** Reconnect delays (exponential, full jitter); default 0.5 s to 30 s. */
  readonly backoff?: BackoffOptions;
  /** A connection open this long resets the backoff; default 10 s. */
  readonly healthyAfterMs?: number;
  /** Channel changes within this long make one reconnect; default 25 ms. */
  readonly debounceMs?: number;
  /** How long an emit keeps retrying (503, 504, no answer, offline); default 30 s. */
  readonly emitTimeoutMs?: number;
  /** At most this many emits wait to be sent (offline, server away); default 100. */
  readonly maxQueuedEmits?: number;
  /** At most this many bytes of emits (their JSON) wait to be sent; default 1 MiB. */
  readonly maxQueuedBytes?: number;
  /**
   * On 401/403: refresh the credentials (e.g. `headers` reads a new token) and resolve
   * `true` to reconnect at once; otherwise the client waits for `reconnect()`.
   */
  readonly onUnauthorized?: (status: number, message: string) => boolean | Promise<boolean>;
  /** Problems not tied to a subscription (bad frames, server errors). */
  readonly onError?: (issue: RealtimeIssue) => void;
  /**
   * How the event stream is opened: default one per client; `shareAcrossTabs()` from
   * `@realtime-rs/client/tabs` shares one among the browser's tabs.
   */
  readonly transport?: Transport;
  /** The `fetch` to use; default the global one. */
  readonly fetch?: typeof fetch;
}

/**
 * The most events a subscription holds back per channel while it reads history or members
 * first; past it, it gives up that read (reported) and delivers what waited.
 */
const MAX_HELD = 10_000;

type AnyEvent = { readonly id: string; readonly channel: string; readonly event: string; readonly data: unknown };

/** One registered subscription. */
interface Sub {
  readonly channels: readonly string[];
  readonly events: ReadonlySet<string> | undefined;
  deliver(event: AnyEvent): void;
  issue(issue: RealtimeIssue): void;
  /** Channels whose events wait while something is read first. */
  readonly held: Map<string, AnyEvent[]>;
  /** A channel became live on a new connection, everything up to `cursor` accounted for. */
  live?(channel: string, cursor: string): void;
}

/** The client of one endpoint: see `createClient`. */
export interface RealtimeClient<Events extends EventMap> {
  /** The connection's state now. */
  readonly status: Status;
  /** Calls `listener` on every status change; returns the function that stops it. */
  onStatus(listener: (status: Status) => void): () => void;
  /** What the client dropped and retried so far. */
  readonly stats: ClientStats;
  /** Each channel's cursor: the id of the last event it delivered (or was told of). */
  cursors(): ReadonlyMap<string, string>;
  /**
   * Subscribes to events of some channels; returns the function that unsubscribes.
   * Subscriptions share one stream; each receives each event once, in id order per channel.
   */
  subscribe<Name extends EventName<Events> = EventName<Events>>(options: SubscribeOptions<Events, Name>): () => void;
  /**
   * The members of a channel's presence, kept current by its `presence.joined` and
   * `presence.left` events and read again after every reconnect; `onChange` gets the list
   * (sorted by member id) whenever it changes. Returns the function that stops it.
   */
  presence(channel: string, onChange: (members: Member<PresenceInfo<Events>>[]) => void): () => void;
  /**
   * Emits an event through the endpoint's emit route; resolves to its id. The data is
   * validated first when the client has the schemas. The call's `Idempotency-Key` is kept
   * across its retries (503, 504, no answer; with backoff, for up to `emitTimeoutMs`), so
   * it is stored once. Rejects with a `RealtimeError` (4xx: the server's message, event
   * and JSON path).
   */
  emit<Name extends EventName<Events>>(channel: string, event: Name, data: Events[Name]): Promise<string>;
  /**
   * Reads a channel's stored events (the endpoint's history route): the newest `limit`
   * (default 100), or the oldest after `after`; always in id order. Events that break
   * their schema are left out and reported to `onError`.
   */
  history<Name extends EventName<Events> = EventName<Events>>(
    channel: string,
    options?: HistoryOptions<Name>,
  ): Promise<RealtimeEvent<Events, Name>[]>;
  /** Reconnects now: after `unauthorized` (with new credentials), or to skip a wait. */
  reconnect(): void;
  /** Closes the stream and ends every subscription. */
  close(): void;
}

/**
 * A client for the endpoint at `options.url` (default `/api/realtime`). Closures, not a
 * class: private fields and `this.` do not minify.
 */
export function createClient<Events extends EventMap>(options: ClientOptions<Events> = {}): RealtimeClient<Events> {
  const url = options.url ?? "/api/realtime";
  const fetcher = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const backoff = options.backoff;
  const clientError = (issue: RealtimeIssue): void => options.onError?.(issue);
  /** Emits not answered yet (sent one at a time, in call order), and their size. */
  let queued = 0;
  let queuedBytes = 0;
  /** The last emit's answer: the next is sent after it. */
  let lastEmit: Promise<unknown> = Promise.resolve();
  const report = options.onError ?? console.error;
  const subs = new Set<Sub>();
  const cursors = new Map<string, string>();
  /** Channels live on the current connection (their `connected` frame came). */
  const live = new Set<string>();
  /**
   * Channels whose events this connection brought while no subscription wanted them: not
   * consumed (their cursors stay), so they and the channel's later events on this
   * connection are left for the next one to replay.
   */
  const skipped = new Set<string>();
  const statusListeners = new Set<(status: Status) => void>();
  let status: Status = { state: "connecting" };
  const stats = { duplicatesDropped: 0, invalidEvents: 0, connections: 0, failedConnects: 0 };
  /** The channels of the connection being made or open. */
  let connected: readonly string[] = [];
  let connection: AbortController | undefined;
  let wake = new AbortController();
  let debounce: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let closed = false;

  const setStatus = (next: Status): void => {
    status = next;
    for (const listener of [...statusListeners]) listener(next);
  };
  const reconnect = (): void => {
    wake.abort();
    wakeRetries();
  };
  /** The wait before retry number `attempt`: the backoff's, or longer if the server asked. */
  const delayFor = (attempt: number, { retryAfterMs = 0 }: { readonly retryAfterMs?: number | undefined }): number =>
    Math.max(backoffDelay(attempt, backoff), retryAfterMs);
  const subsOf = (channel: string): Sub[] => [...subs].filter((sub) => sub.channels.includes(channel));

  /** A request's `init`: `extra` with the app's headers (made per request) and credentials. */
  const requestInit = async (extra: RequestInit & { headers?: Record<string, string> }): Promise<RequestInit> => ({
    ...extra,
    headers: {
      ...extra.headers,
      ...(typeof options.headers === "function" ? await options.headers() : options.headers),
    },
    credentials: options.credentials as RequestCredentials, // (undefined: fetch's default)
  });

  /**
   * One request to the endpoint, as JSON: `GET <url>/<route>?<query>`, or the emit (a
   * `POST` to `url`) when `init` has a body. Rejects with a `RealtimeError`.
   */
  const call = async <T>(
    route: string,
    query: Record<string, string | number | readonly string[] | undefined>,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<T> => {
    const target = route ? routeUrl(url, route, Object.entries(query)) : url;
    let response: Response;
    try {
      response = await fetcher(target, await requestInit(init));
      if (response.ok) return (await response.json()) as T;
    } catch (error) {
      throw new RealtimeError(`no answer: ${messageOf(error)}`, 0);
    }
    throw await errorOf(response);
  };

  /** Aborted (and renewed) by `wakeRetries`: ends the waits between tries. */
  let retryWake = new AbortController();
  const wakeRetries = (): void => {
    retryWake.abort();
    retryWake = new AbortController();
  };
  /** The browser's hints, heard while emits wait (with or without a stream). */
  let emitsListening: AbortController | undefined;

  /**
   * Runs `read` until it succeeds, `gone()`, or fails for good (not retryable, or `fail`,
   * told of each failure and the ms left before `deadline`, returns true or throws):
   * `undefined` then. A failure waits the backoff's delay (or the server's `Retry-After`),
   * cut short at the deadline, where a last try is made; back online, a tab shown or
   * `reconnect()` ends the wait and starts the backoff over.
   */
  const retrying = async <T>(
    read: () => Promise<T>,
    gone: () => boolean,
    fail: (error: RealtimeError, left: number) => boolean | void,
    deadline = Infinity,
  ): Promise<T | undefined> => {
    for (let attempt = 1; !gone(); attempt++) {
      try {
        return await read();
      } catch (error) {
        const failure = error as RealtimeError; // what `call` throws
        const left = deadline - Date.now();
        if (fail(failure, left) || !failure.retryable) return undefined;
        const { signal } = retryWake;
        await sleep(Math.min(delayFor(attempt, failure), left), signal);
        if (signal.aborted) attempt = 0;
      }
    }
    return undefined;
  };

  /** Whether `event` passes its schema; reports it to `onError` when it does not. */
  const accept = (event: AnyEvent, onError: (issue: RealtimeIssue) => void): boolean => {
    const problem = options.validate?.(event.event, event.data);
    if (!problem) return true;
    stats.invalidEvents++;
    onError({ ...problem, channel: event.channel, event: event.event, id: event.id });
    return false;
  };

  /**
   * Reads something for `sub` while its events of `channel` wait: `read` is retried until
   * it succeeds, fails for good (each failure reported as `kind`, its message after
   * `what`), `stale()`, or `sub` ends. Then, unless `stale()`, its events stop waiting and
   * `then` gets what was read (`undefined`: it could not be) and the events that waited
   * (`undefined`: too many waited, and they went on meanwhile).
   */
  const readFirst = async <T>(
    sub: Sub,
    channel: string,
    read: () => Promise<T>,
    kind: RealtimeIssue["kind"],
    what: string,
    stale: () => boolean,
    then: (read: T | undefined, held: AnyEvent[] | undefined) => void,
  ): Promise<void> => {
    const result = await retrying(
      read,
      () => closed || stale() || !subs.has(sub),
      (error) => sub.issue({ kind, channel, message: `${what}: ${error.message}` }),
    );
    if (stale()) return;
    const held = sub.held.get(channel);
    sub.held.delete(channel);
    then(result, held);
  };

  const add = (sub: Sub): (() => void) => {
    if (closed) return () => undefined;
    subs.add(sub);
    for (const channel of sub.channels) {
      const cursor = cursors.get(channel);
      if (live.has(channel) && cursor) sub.live?.(channel, cursor);
    }
    channelsChanged();
    return () => {
      if (subs.delete(sub)) channelsChanged();
    };
  };

  /** The channels the subscriptions need, sorted. */
  const wanted = (): string[] => [...new Set([...subs].flatMap((sub) => sub.channels))].sort();

  const channelsChanged = (): void => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      const channels = wanted();
      if (!running) {
        if (channels.length) void run();
      } else if (String(channels) !== String(connected) || channels.some((c) => skipped.has(c))) {
        // (Compared as text: channel names have no commas.)
        // Ends the connection (or the wait before the next one): the loop takes the new set.
        // (Not `reconnect()`: waiting emits keep their backoff while channels change.)
        connection?.abort();
        wake.abort();
      }
    }, options.debounceMs ?? 25);
  };

  /** Keeps one stream open for the wanted channels until there are none, or `close`. */
  const run = async (): Promise<void> => {
    running = true;
    // Only while a stream is wanted: a client made and dropped (React StrictMode calls a
    // state initializer twice) leaves nothing behind.
    const listening = new AbortController();
    listenToEnvironment(reconnect, () => connection?.abort(), listening.signal);
    let attempt = 0;
    try {
      while (!closed) {
        const channels = wanted();
        if (!channels.length) break;
        if (wake.signal.aborted) wake = new AbortController();
        if (globalThis.navigator?.onLine === false) {
          setStatus({ state: "offline" });
          await sleep(3_600_000, wake.signal);
          continue;
        }
        if (!attempt) setStatus({ state: "connecting" });
        const current = (connection = new AbortController());
        connected = channels;
        skipped.clear(); // (`live` was cleared when the last connection ended)
        let openedAt: number | undefined;
        // (`readStream` settles with why the stream ended; another transport might throw.)
        const end: StreamEnd = await (options.transport ?? readStream)({
          url,
          channels,
          cursors,
          // (Not cached: the server says `Cache-Control: no-cache`, and each URL has its cursors.)
          init: () => requestInit({ headers: { Accept: "text/event-stream" } }),
          fetch: fetcher,
          connection: current,
          deadAfterMs: 2 * (options.keepaliveMs ?? 30_000),
          onOpen: () => {
            openedAt = Date.now();
            stats.connections++;
            setStatus({ state: "connected" });
          },
          onFrame,
          setStatus,
        }).catch((error: unknown) => ({ message: messageOf(error) }));
        live.clear();
        if (openedAt && Date.now() - openedAt >= (options.healthyAfterMs ?? 10_000)) attempt = 0;
        if (!end) continue; // aborted, or the server's `reconnect`
        if (!openedAt) stats.failedConnects++;
        const code = end.status;
        if (code === 401 || code === 403) {
          setStatus({ state: "unauthorized", status: code, message: end.message });
          const retry = (await options.onUnauthorized?.(code, end.message)) === true;
          if (!retry && !wake.signal.aborted) await sleep(2 ** 31 - 1, wake.signal);
          attempt = 0;
          continue;
        }
        attempt++;
        const retryInMs = delayFor(attempt, end);
        const reason = code ? `HTTP ${code}: ${end.message}` : end.message;
        setStatus({ state: "reconnecting", attempt, retryInMs, reason });
        await sleep(retryInMs, wake.signal);
      }
    } finally {
      listening.abort();
      running = false;
      connection = undefined;
      connected = [];
    }
  };

  const onFrame = (frame: unknown, raw: string): void => {
    // (`Object()`: text that is no JSON object has none of these, so it is no event.)
    const { type, channel, cursor: told, error, id, event, data } = Object(frame) as Record<string, unknown>;
    if (type === "connected") {
      if (typeof channel !== "string") return;
      const theirs = isEventId(told) ? told : ORIGIN_ID;
      const mine = cursors.get(channel);
      const cursor = mine && compareIds(mine, theirs) > 0 ? mine : theirs;
      cursors.set(channel, cursor);
      live.add(channel);
      for (const sub of subsOf(channel)) sub.live?.(channel, cursor);
      return;
    }
    if (type === "error") return clientError({ kind: "server-error", message: String(error) });
    if (type !== undefined) return; // ping, reconnect (the transport ends the stream), disconnected
    if (!isEventId(id) || typeof event !== "string" || typeof channel !== "string") return clientError({ kind: "bad-frame", message: `not an event: ${raw.slice(0, 200)}` });
    // A channel left while the connection still carries it (the reconnect is debounced):
    // were its cursor moved, a subscription joining it later would resume after events
    // nobody received.
    if (skipped.has(channel) || !subsOf(channel)[0]) {
      skipped.add(channel);
      return;
    }
    const cursor = cursors.get(channel);
    if (cursor && compareIds(id, cursor) <= 0) {
      stats.duplicatesDropped++;
      return;
    }
    cursors.set(channel, id);
    const message: AnyEvent = { id, channel, event, data };
    const targets = subsOf(channel).filter((sub) => !sub.events || sub.events.has(event));
    // An invalid event is reported to the subscriptions it was for.
    if (!accept(message, (issue) => targets.forEach((sub) => sub.issue(issue)))) return;
    for (const sub of targets) {
      const held = sub.held.get(channel);
      if (!held) deliverSafely(sub, message);
      else if (held.push(message) > MAX_HELD) {
        // The read that holds them takes too long: the live events go on without it.
        sub.held.delete(channel);
        sub.issue({ kind: "server-error", channel, message: `history or members too slow: ${MAX_HELD} events waited` });
        for (const waiting of held) deliverSafely(sub, waiting);
      }
    }
  };

  return {
    get status() {
      return status;
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    get stats() {
      return { ...stats };
    },
    cursors: () => new Map(cursors),
    subscribe(subscription) {
      const channels = [...new Set(subscription.channels ?? ["default"])];
      const history = subscription.history ?? 0;
      const sub: Sub = {
        channels,
        events: subscription.events && new Set(subscription.events),
        deliver: (event) => subscription.onEvent(event as RealtimeEvent<Events, never>),
        issue: subscription.onError ?? report,
        // With history, every channel's events wait for it.
        held: new Map(history > 0 ? channels.map((channel) => [channel, []]) : []),
      };
      if (history > 0) {
        // Each channel's history is read once, on its first connection.
        const unread = new Set(channels);
        sub.live = (channel, cursor) => {
          if (!unread.delete(channel)) return;
          // History older than the channel's cursor, then the events that waited.
          void readFirst(
            sub,
            channel,
            async () =>
              cursor === ORIGIN_ID
                ? []
                : call<AnyEvent[]>("history", {
                    channel,
                    limit: Math.min(history, 1000),
                    before: nextId(cursor),
                    event: subscription.events,
                  }),
            "server-error",
            "history",
            () => false,
            (read, held) => {
              // Released meanwhile (too many newer events waited): the live events went on.
              if (!held) return;
              // History that cannot be read (reported) leaves the live events to go on.
              for (const event of read ?? []) if (accept(event, sub.issue)) deliverSafely(sub, event);
              for (const event of held) deliverSafely(sub, event);
            },
          );
        };
      }
      return add(sub);
    },
    presence(channel, onChange) {
      const members = new Map<string, Member<PresenceInfo<Events>>>();
      let generation = 0;
      const publish = (): void =>
        // Member ids are the map's keys: never equal.
        onChange([...members.values()].sort((a, b) => (a.member < b.member ? -1 : 1)));
      const apply = (event: AnyEvent): void => {
        const member = event.data as Member<PresenceInfo<Events>>;
        if (event.event === "presence.joined") members.set(member.member, member);
        else members.delete(member.member);
      };
      const sub: Sub = {
        channels: [channel],
        events: new Set(["presence.joined", "presence.left"]),
        deliver: (event) => {
          apply(event);
          publish();
        },
        issue: report,
        held: new Map([[channel, []]]),
        live: () => {
          const mine = ++generation;
          if (!sub.held.has(channel)) sub.held.set(channel, []);
          void readFirst(
            sub,
            channel,
            () => call<Member<PresenceInfo<Events>>[]>("presence", { channel }),
            "presence",
            "members",
            () => mine !== generation,
            (read, held) => {
              // Members that cannot be read (reported) leave the events to keep the list.
              if (read) members.clear();
              for (const member of read ?? []) members.set(member.member, member);
              for (const event of held ?? []) apply(event);
              publish();
            },
          );
        },
      };
      return add(sub);
    },
    async emit(channel, event, data) {
      const problem = options.validate?.(event, data);
      if (problem) {
        throw new RealtimeError(`invalid \`${event}\`: ${problem.message}`, 422, {
          event,
          path: problem.path,
          rule: "schema",
        });
      }
      const init = {
        method: "POST",
        headers: { "Content-Type": "application/json", "Idempotency-Key": randomKey() },
        body: JSON.stringify({ channel, event, data }),
      };
      const bytes = new TextEncoder().encode(init.body).length;
      if (queued >= (options.maxQueuedEmits ?? 1000) || queuedBytes + bytes > (options.maxQueuedBytes ?? 1_048_576)) {
        throw new RealtimeError(`emit queue full: ${queued} emits, ${queuedBytes} bytes wait`, 0);
      }
      const deadline = Date.now() + (options.emitTimeoutMs ?? 30_000);
      // (Back online or a tab shown ends their waits, with or without a stream.)
      if (!queued++) listenToEnvironment(wakeRetries, () => undefined, (emitsListening = new AbortController()).signal);
      queuedBytes += bytes;
      // One at a time, in call order; each retried (not after `close`: an emit is the app's
      // own call) until it is stored, is refused, or its deadline passes. The next goes on
      // either way.
      const answer = lastEmit.then(() =>
        retrying(
          () => call<{ id: string }>("", {}, init),
          () => false,
          (error, left) => {
            if (!error.retryable || left <= 0) throw error;
          },
          deadline,
        ),
      );
      lastEmit = answer.catch(() => undefined);
      try {
        return (await answer)!.id;
      } finally {
        if (!--queued) emitsListening?.abort();
        queuedBytes -= bytes;
      }
    },
    async history(channel, { events: event, ...bounds } = {}) {
      // `limit`, `after`, `before` as they are; `events` as the parameter `event`, repeated.
      const events = await call<AnyEvent[]>("history", { channel, ...bounds, event });
      return events.filter((event) => accept(event, clientError)) as RealtimeEvent<Events, never>[];
    },
    reconnect,
    close() {
      closed = true;
      subs.clear();
      clearTimeout(debounce);
      connection?.abort();
      reconnect();
      setStatus({ state: "closed" });
    },
  };
}

/**
 * Calls the app's callback; an exception in it goes to `onError` (or the console), never
 * stops the stream nor skips another subscription.
 */
function deliverSafely(sub: Sub, event: AnyEvent): void {
  try {
    sub.deliver(event);
  } catch (error) {
    sub.issue({ kind: "callback", message: String(error), channel: event.channel, event: event.event, id: event.id });
  }
}

/** A fresh idempotency key: 128 random bits, e.g. `3735928559-42-7-4294967295`. */
function randomKey(): string {
  return globalThis.crypto.getRandomValues(new Uint32Array(4)).join("-");
}

/**
 * Listens to the browser's hints (none elsewhere) until `signal` aborts: back online or a
 * tab shown again retries at once; going offline drops the connection, which then waits
 * for `online`.
 */
function listenToEnvironment(retryNow: () => void, offline: () => void, signal: AbortSignal): void {
  const target = globalThis as { addEventListener?: typeof addEventListener; document?: Document };
  const doc = target.document;
  target.addEventListener?.("online", retryNow, { signal });
  target.addEventListener?.("offline", offline, { signal });
  doc?.addEventListener(
    "visibilitychange",
    () => {
      if (!doc.hidden) retryNow();
    },
    { signal },
  );
}
