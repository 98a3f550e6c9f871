/**
 * The client: every subscription shares one event stream; a change of channels reconnects
 * once (debounced) and each channel resumes from its own cursor, which lives as long as the
 * client. Each event reaches each subscription once, in id order per channel.
 */

import { backoffDelay, retryAfterMs, type BackoffOptions } from "./backoff.js";
import { errorOf, headersOf, RealtimeError, sleep, type HeadersSource } from "./http.js";
import { compareIds, isEventId, nextId, ORIGIN_ID } from "./ids.js";
import { readStream, type StreamEnd } from "./transport.js";
import type {
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
  Status,
  SubscribeOptions,
} from "./types.js";

/** What `createClient` takes. */
export interface ClientOptions<Events extends EventMap> {
  /** The endpoint; default `/api/realtime`. */
  readonly url?: string;
  /** Headers of every request (e.g. `Authorization`), or a function made per request. */
  readonly headers?: HeadersSource;
  /** `fetch`'s `credentials` (cookies on a cross-origin endpoint: `"include"`). */
  readonly credentials?: RequestCredentials;
  /** The data schemas: incoming events are validated, and emits before they are sent. */
  readonly schemas?: EventSchemas<Events>;
  /** The server's ping interval; a stream silent for twice as long is replaced. Default 30 s. */
  readonly keepaliveMs?: number;
  /** Reconnect delays (exponential, full jitter); default 0.5 s to 30 s. */
  readonly backoff?: BackoffOptions;
  /** A connection open this long resets the backoff; default 10 s. */
  readonly healthyAfterMs?: number;
  /** Channel changes within this long make one reconnect; default 25 ms. */
  readonly debounceMs?: number;
  /** How long an emit keeps retrying (503, 504, no answer); default 30 s. */
  readonly emitTimeoutMs?: number;
  /**
   * On 401/403: refresh the credentials (e.g. `headers` reads a new token) and resolve
   * `true` to reconnect at once; otherwise the client waits for `reconnect()`.
   */
  readonly onUnauthorized?: (status: number, message: string) => boolean | Promise<boolean>;
  /** Problems not tied to a subscription (bad frames, server errors). */
  readonly onError?: (issue: RealtimeIssue) => void;
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
export class RealtimeClient<Events extends EventMap> {
  readonly #options: ClientOptions<Events>;
  readonly #url: string;
  readonly #fetch: typeof fetch;
  readonly #subs = new Set<Sub>();
  readonly #cursors = new Map<string, string>();
  /** Channels live on the current connection (their `connected` frame came). */
  readonly #live = new Set<string>();
  /**
   * Channels whose events this connection brought while no subscription wanted them: not
   * consumed (their cursors stay), so they and the channel's later events on this
   * connection are left for the next one to replay.
   */
  readonly #skipped = new Set<string>();
  readonly #statusListeners = new Set<(status: Status) => void>();
  #status: Status = { state: "connecting" };
  #stats = { duplicatesDropped: 0, invalidEvents: 0, connections: 0, failedConnects: 0 };
  /** The channels of the connection being made or open. */
  #connected: readonly string[] = [];
  #connection: AbortController | undefined;
  #wake: AbortController = new AbortController();
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #closed = false;

  constructor(options: ClientOptions<Events> = {}) {
    this.#options = options;
    this.#url = options.url ?? "/api/realtime";
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The connection's state now. */
  get status(): Status {
    return this.#status;
  }

  /** Calls `listener` on every status change; returns the function that stops it. */
  onStatus(listener: (status: Status) => void): () => void {
    this.#statusListeners.add(listener);
    return () => this.#statusListeners.delete(listener);
  }

  /** What the client dropped and retried so far. */
  get stats(): ClientStats {
    return { ...this.#stats };
  }

  /** Each channel's cursor: the id of the last event it delivered (or was told of). */
  cursors(): ReadonlyMap<string, string> {
    return new Map(this.#cursors);
  }

  /**
   * Subscribes to events of some channels; returns the function that unsubscribes.
   * Subscriptions share one stream; each receives each event once, in id order per channel.
   */
  subscribe<Name extends EventName<Events> = EventName<Events>>(
    options: SubscribeOptions<Events, Name>,
  ): () => void {
    const channels = [...new Set(options.channels ?? ["default"])];
    const onError = options.onError ?? this.#options.onError;
    const sub: Sub = {
      channels,
      events: options.events === undefined ? undefined : new Set(options.events),
      deliver: (event) => options.onEvent(event as RealtimeEvent<Events, Name>),
      issue: (issue) => (onError ?? console.error)(issue),
      held: new Map(),
    };
    const history = options.history ?? 0;
    if (history > 0) {
      const started = new Set<string>();
      sub.live = (channel, cursor) => {
        if (started.has(channel) || !sub.held.has(channel)) return;
        started.add(channel);
        void this.#readHistoryFirst(sub, channel, cursor, history, options.events);
      };
      for (const channel of channels) sub.held.set(channel, []);
    }
    return this.#add(sub);
  }

  /**
   * The members of a channel's presence, kept current by its `presence.joined` and
   * `presence.left` events and read again after every reconnect; `onChange` gets the list
   * (sorted by member id) whenever it changes. Returns the function that stops it.
   */
  presence(
    channel: string,
    onChange: (members: Member<PresenceInfo<Events>>[]) => void,
  ): () => void {
    const members = new Map<string, Member<PresenceInfo<Events>>>();
    let generation = 0;
    const publish = (): void =>
      onChange([...members.values()].sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0)));
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
      issue: (issue) => (this.#options.onError ?? console.error)(issue),
      held: new Map([[channel, []]]),
      live: () => {
        const mine = ++generation;
        if (!sub.held.has(channel)) sub.held.set(channel, []);
        void this.#retrying(
          () => this.#get<Member<PresenceInfo<Events>>[]>("presence", { channel }),
          () => mine !== generation || !this.#subs.has(sub),
          (error) => sub.issue({ kind: "presence", channel, message: `members: ${error.message}` }),
        ).then((read) => {
          if (mine !== generation) return;
          // Members that cannot be read (reported) leave the events to keep the list.
          if (read !== undefined) members.clear();
          for (const member of read ?? []) members.set(member.member, member);
          for (const event of sub.held.get(channel) ?? []) apply(event);
          sub.held.delete(channel);
          publish();
        });
      },
    };
    return this.#add(sub);
  }

  /**
   * Emits an event through the endpoint's emit route; resolves to its id. The data is
   * validated first when the client has the schemas. The call's `Idempotency-Key` is kept
   * across its retries (503, 504, no answer; with backoff, for up to `emitTimeoutMs`), so
   * it is stored once. Rejects with a `RealtimeError` (4xx: the server's message, event
   * and JSON path).
   */
  async emit<Name extends EventName<Events>>(channel: string, event: Name, data: Events[Name]): Promise<string> {
    const problem = this.#validate(event, data);
    if (problem !== undefined) {
      throw new RealtimeError(`invalid \`${event}\`: ${problem.message}`, 422, {
        event,
        path: problem.path,
        rule: "schema",
      });
    }
    const key = randomKey();
    const body = JSON.stringify({ channel, event, data });
    const deadline = Date.now() + (this.#options.emitTimeoutMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      let error: RealtimeError;
      try {
        const response = await this.#fetch(this.#url, {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": key, ...(await headersOf(this.#options.headers)) },
          body,
          ...this.#credentials(),
        });
        if (response.ok) return ((await response.json()) as { id: string }).id;
        error = await errorOf(response, retryAfterMs(response.headers.get("retry-after")));
      } catch (thrown) {
        error = new RealtimeError(`no answer: ${thrown instanceof Error ? thrown.message : String(thrown)}`, 0);
      }
      const delay = Math.max(backoffDelay(attempt, this.#options.backoff), error.retryAfterMs ?? 0);
      if (!error.retryable || Date.now() + delay > deadline) throw error;
      await sleep(delay);
    }
  }

  /**
   * Reads a channel's stored events (the endpoint's history route): the newest `limit`
   * (default 100), or the oldest after `after`; always in id order. Events that break
   * their schema are left out and reported to `onError`.
   */
  async history<Name extends EventName<Events> = EventName<Events>>(
    channel: string,
    options: HistoryOptions<Name> = {},
  ): Promise<RealtimeEvent<Events, Name>[]> {
    const query: Record<string, string | readonly string[]> = { channel };
    if (options.limit !== undefined) query["limit"] = String(options.limit);
    if (options.after !== undefined) query["after"] = options.after;
    if (options.before !== undefined) query["before"] = options.before;
    if (options.events !== undefined) query["event"] = options.events;
    const events = await this.#get<AnyEvent[]>("history", query);
    return events.filter((event) => this.#accept(event, this.#options.onError)) as RealtimeEvent<Events, Name>[];
  }

  /** Reconnects now: after `unauthorized` (with new credentials), or to skip a wait. */
  reconnect(): void {
    this.#wake.abort();
  }

  /** Closes the stream and ends every subscription. */
  close(): void {
    this.#closed = true;
    this.#subs.clear();
    clearTimeout(this.#debounce);
    this.#connection?.abort();
    this.#wake.abort();
    this.#setStatus({ state: "closed" });
  }

  #add(sub: Sub): () => void {
    if (this.#closed) return () => undefined;
    this.#subs.add(sub);
    for (const channel of sub.channels) {
      const cursor = this.#cursors.get(channel);
      if (this.#live.has(channel) && cursor !== undefined) sub.live?.(channel, cursor);
    }
    this.#channelsChanged();
    return () => {
      if (this.#subs.delete(sub)) this.#channelsChanged();
    };
  }

  /** The channels the subscriptions need, sorted. */
  #wanted(): string[] {
    const channels = new Set<string>();
    for (const sub of this.#subs) for (const channel of sub.channels) channels.add(channel);
    return [...channels].sort();
  }

  #channelsChanged(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      const wanted = this.#wanted();
      if (!this.#running) {
        if (wanted.length > 0) void this.#run();
      } else if (wanted.join("\n") !== this.#connected.join("\n") || wanted.some((c) => this.#skipped.has(c))) {
        // Ends the connection (or the wait before the next one): the loop takes the new set.
        this.#connection?.abort();
        this.#wake.abort();
      }
    }, this.#options.debounceMs ?? 25);
  }

  /** Keeps one stream open for the wanted channels until there are none, or `close`. */
  async #run(): Promise<void> {
    this.#running = true;
    // Only while a stream is wanted: a client made and dropped (React StrictMode calls a
    // state initializer twice) leaves nothing behind.
    const unlisten = listenToEnvironment(
      () => this.reconnect(),
      () => this.#connection?.abort(),
    );
    let attempt = 0;
    try {
      while (!this.#closed) {
        const channels = this.#wanted();
        if (channels.length === 0) break;
        if (this.#wake.signal.aborted) this.#wake = new AbortController();
        if (globalThis.navigator?.onLine === false) {
          this.#setStatus({ state: "offline" });
          await sleep(3_600_000, this.#wake.signal);
          continue;
        }
        if (attempt === 0) this.#setStatus({ state: "connecting" });
        const connection = new AbortController();
        this.#connection = connection;
        this.#connected = channels;
        this.#live.clear();
        this.#skipped.clear();
        let openedAt: number | undefined;
        let end: StreamEnd;
        try {
          end = await readStream(
            {
              url: this.#url,
              channels,
              cursors: this.#cursors,
              headers: await headersOf(this.#options.headers),
              fetch: this.#fetch,
              credentials: this.#options.credentials,
              deadAfterMs: 2 * (this.#options.keepaliveMs ?? 30_000),
            },
            connection.signal,
            () => {
              openedAt = Date.now();
              this.#stats.connections++;
              this.#setStatus({ state: "connected" });
            },
            (frame, raw) => this.#frame(frame, raw),
          );
        } catch (error) {
          end = { kind: "ended", message: `headers: ${String(error)}` };
        }
        this.#live.clear();
        if (openedAt !== undefined && Date.now() - openedAt >= (this.#options.healthyAfterMs ?? 10_000)) attempt = 0;
        if (end.kind === "aborted" || end.kind === "reconnect") continue;
        this.#stats.failedConnects += openedAt === undefined ? 1 : 0;
        if (end.kind === "refused" && (end.status === 401 || end.status === 403)) {
          this.#setStatus({ state: "unauthorized", status: end.status, message: end.message });
          const retry = (await this.#options.onUnauthorized?.(end.status, end.message)) === true;
          if (!retry && !this.#wake.signal.aborted) await sleep(2 ** 31 - 1, this.#wake.signal);
          attempt = 0;
          continue;
        }
        attempt++;
        const retryInMs = Math.max(
          backoffDelay(attempt, this.#options.backoff),
          end.kind === "refused" ? (end.retryAfterMs ?? 0) : 0,
        );
        const reason = end.kind === "refused" ? `HTTP ${end.status}: ${end.message}` : end.message;
        this.#setStatus({ state: "reconnecting", attempt, retryInMs, reason });
        await sleep(retryInMs, this.#wake.signal);
      }
    } finally {
      unlisten();
      this.#running = false;
      this.#connection = undefined;
      this.#connected = [];
    }
  }

  #frame(frame: unknown, raw: string): void {
    if (typeof frame !== "object" || frame === null) {
      this.#options.onError?.({ kind: "bad-frame", message: `not a JSON object: ${raw.slice(0, 200)}` });
      return;
    }
    const record = frame as Record<string, unknown>;
    const channel = typeof record["channel"] === "string" ? record["channel"] : undefined;
    switch (record["type"]) {
      case "connected": {
        if (channel === undefined) return;
        const told = isEventId(record["cursor"]) ? record["cursor"] : ORIGIN_ID;
        const mine = this.#cursors.get(channel);
        const cursor = mine !== undefined && compareIds(mine, told) > 0 ? mine : told;
        this.#cursors.set(channel, cursor);
        this.#live.add(channel);
        for (const sub of [...this.#subs]) if (sub.channels.includes(channel)) sub.live?.(channel, cursor);
        return;
      }
      case "error":
        this.#options.onError?.({ kind: "server-error", message: String(record["error"]) });
        return;
      case undefined:
        break;
      default:
        return; // ping, reconnect (the transport ends the stream), disconnected
    }
    const id = record["id"];
    const event = record["event"];
    if (!isEventId(id) || typeof event !== "string" || channel === undefined) {
      this.#options.onError?.({ kind: "bad-frame", message: `not an event: ${raw.slice(0, 200)}` });
      return;
    }
    // A channel left while the connection still carries it (the reconnect is debounced):
    // were its cursor moved, a subscription joining it later would resume after events
    // nobody received.
    if (this.#skipped.has(channel) || ![...this.#subs].some((sub) => sub.channels.includes(channel))) {
      this.#skipped.add(channel);
      return;
    }
    const cursor = this.#cursors.get(channel);
    if (cursor !== undefined && compareIds(id, cursor) <= 0) {
      this.#stats.duplicatesDropped++;
      return;
    }
    this.#cursors.set(channel, id);
    const message: AnyEvent = { id, channel, event, data: record["data"] };
    const subs = [...this.#subs].filter(
      (sub) => sub.channels.includes(channel) && (sub.events === undefined || sub.events.has(event)),
    );
    // An invalid event is reported to the subscriptions it was for.
    if (!this.#accept(message, (issue) => subs.forEach((sub) => sub.issue(issue)))) return;
    for (const sub of subs) {
      const held = sub.held.get(channel);
      if (held === undefined) deliverSafely(sub, message);
      else if (held.push(message) > MAX_HELD) {
        // The read that holds them takes too long: the live events go on without it.
        sub.held.delete(channel);
        sub.issue({ kind: "server-error", channel, message: `gave up reading history or members: ${MAX_HELD} newer events waited` });
        for (const waiting of held) deliverSafely(sub, waiting);
      }
    }
  }

  /** Whether `event` passes its schema; reports it to `onError` when it does not. */
  #accept(event: AnyEvent, onError: ((issue: RealtimeIssue) => void) | undefined): boolean {
    const problem = this.#validate(event.event, event.data);
    if (problem === undefined) return true;
    this.#stats.invalidEvents++;
    onError?.({
      kind: problem.unknown ? "unknown-event" : "invalid-event",
      message: problem.message,
      channel: event.channel,
      event: event.event,
      id: event.id,
      path: problem.path,
    });
    return false;
  }

  #validate(event: string, data: unknown): { message: string; path: string; unknown: boolean } | undefined {
    const schemas = this.#options.schemas as Record<string, EventSchemas<Events>[EventName<Events>]> | undefined;
    if (schemas === undefined) return undefined;
    const schema = Object.hasOwn(schemas, event) ? schemas[event] : undefined;
    if (schema === undefined) return { message: `unknown event \`${event}\``, path: "", unknown: true };
    const result = schema["~standard"].validate(data);
    if (result instanceof Promise) {
      return { message: "async schemas are not supported", path: "", unknown: false };
    }
    const issue = result.issues?.[0];
    return issue === undefined ? undefined : { message: issue.message, path: pathOf(issue), unknown: false };
  }

  /** Reads history older than the channel's cursor for `sub`, then lets its held events go. */
  async #readHistoryFirst(
    sub: Sub,
    channel: string,
    cursor: string,
    limit: number,
    events: readonly string[] | undefined,
  ): Promise<void> {
    const read =
      cursor === ORIGIN_ID
        ? []
        : await this.#retrying(
            () =>
              this.#get<AnyEvent[]>("history", {
                channel,
                limit: String(Math.min(limit, 1000)),
                before: nextId(cursor),
                ...(events === undefined ? {} : { event: events }),
              }),
            () => !this.#subs.has(sub),
            (error) => sub.issue({ kind: "server-error", channel, message: `history: ${error.message}` }),
          );
    // Released meanwhile (too many newer events waited): the live events went on.
    const held = sub.held.get(channel);
    if (held === undefined) return;
    sub.held.delete(channel);
    // History that cannot be read (reported above) leaves the live events to go on.
    for (const event of read ?? []) if (this.#accept(event, (issue) => sub.issue(issue))) deliverSafely(sub, event);
    for (const event of held) deliverSafely(sub, event);
  }

  /** Runs `read` until it succeeds, fails for good, or `gone()`; `undefined` then. */
  async #retrying<T>(
    read: () => Promise<T>,
    gone: () => boolean,
    report: (error: RealtimeError) => void,
  ): Promise<T | undefined> {
    for (let attempt = 1; !gone() && !this.#closed; attempt++) {
      try {
        return await read();
      } catch (error) {
        const failure = error instanceof RealtimeError ? error : new RealtimeError(String(error), 0);
        report(failure);
        if (!failure.retryable) return undefined;
        await sleep(Math.max(backoffDelay(attempt, this.#options.backoff), failure.retryAfterMs ?? 0));
      }
    }
    return undefined;
  }

  /** `GET <url>/<route>?<query>` as JSON. */
  async #get<T>(route: string, query: Record<string, string | readonly string[]>): Promise<T> {
    const [base = "", search] = this.#url.split("?");
    const params = new URLSearchParams(search);
    for (const [key, value] of Object.entries(query)) {
      for (const item of typeof value === "string" ? [value] : value) params.append(key, item);
    }
    let response: Response;
    try {
      response = await this.#fetch(`${base.replace(/\/$/, "")}/${route}?${params}`, {
        headers: await headersOf(this.#options.headers),
        ...this.#credentials(),
      });
    } catch (error) {
      throw new RealtimeError(`no answer: ${error instanceof Error ? error.message : String(error)}`, 0);
    }
    if (!response.ok) throw await errorOf(response, retryAfterMs(response.headers.get("retry-after")));
    return (await response.json()) as T;
  }

  #credentials(): { credentials?: RequestCredentials } {
    return this.#options.credentials === undefined ? {} : { credentials: this.#options.credentials };
  }

  #setStatus(status: Status): void {
    this.#status = status;
    for (const listener of [...this.#statusListeners]) listener(status);
  }
}

/** A client for the endpoint at `options.url` (default `/api/realtime`). */
export function createClient<Events extends EventMap>(options: ClientOptions<Events> = {}): RealtimeClient<Events> {
  return new RealtimeClient<Events>(options);
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

/** The issue's path as a JSON pointer, e.g. `/items/0/name`. */
function pathOf(issue: StandardIssue): string {
  return (issue.path ?? [])
    .map((segment) => `/${String(typeof segment === "object" ? segment.key : segment)}`)
    .join("");
}

/** A fresh idempotency key. */
function randomKey(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Listens to the browser's hints (none elsewhere): back online or a tab shown again
 * retries at once; going offline drops the connection, which then waits for `online`.
 */
function listenToEnvironment(retryNow: () => void, offline: () => void): () => void {
  const target = globalThis as { addEventListener?: typeof addEventListener; removeEventListener?: typeof removeEventListener };
  const doc = (globalThis as { document?: Document }).document;
  if (typeof target.addEventListener !== "function") return () => undefined;
  const visible = (): void => {
    if (doc?.visibilityState === "visible") retryNow();
  };
  target.addEventListener("online", retryNow);
  target.addEventListener("offline", offline);
  doc?.addEventListener("visibilitychange", visible);
  return () => {
    target.removeEventListener?.("online", retryNow);
    target.removeEventListener?.("offline", offline);
    doc?.removeEventListener("visibilitychange", visible);
  };
}
