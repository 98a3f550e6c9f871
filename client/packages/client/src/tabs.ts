/**
 * `@realtime-rs/client/tabs`: one event stream per browser, shared by all its tabs.
 *
 * ```ts
 * import { createClient } from "@realtime-rs/client";
 * import { shareAcrossTabs } from "@realtime-rs/client/tabs";
 *
 * const client = createClient({ url: "/api/realtime", transport: shareAcrossTabs() });
 * ```
 *
 * The clients of one endpoint in the tabs of one origin elect a leader with the Web Locks
 * API (each candidate waits for one lock; the browser releases it when its holder's tab
 * closes or crashes). The leader holds the one stream, for the union of every tab's
 * channels, each resuming from the lowest cursor any tab needs, and forwards its frames over
 * a `BroadcastChannel`. Each client keeps its own cursors: it delivers an event only past
 * its channel's cursor, so it sees each event once, in order, whatever the leader replays.
 *
 * A leader whose tab is frozen gives up the lock first (`freeze`); one that stops answering
 * (no heartbeat, no answer to a ping) has its lock stolen by a follower, which then
 * reconnects from the tabs' cursors. Without Web Locks or `BroadcastChannel` each tab keeps
 * a stream of its own, and its status says `tabs: "unshared"`.
 *
 * Tabs share the leader's credentials (its `headers` and cookies): tabs of one origin are
 * one user. Every tab sees the frames of the channels any tab asked for (in its own
 * `BroadcastChannel`); only its own reach its subscriptions.
 */

import { backoffDelay } from "./backoff.js";
import { messageOf, sleep } from "./http.js";
import { compareIds, isEventId } from "./ids.js";
import { readStream, type StreamEnd, type StreamRequest, type Transport } from "./transport.js";
import type { Status } from "./types.js";

/** What `shareAcrossTabs` takes. */
export interface TabSharingOptions {
  /**
   * How often the leader says it is alive, in ms; default 250. A follower that hears
   * nothing for twice as long pings it, and takes over when the ping goes unanswered for
   * twice as long again (about 1 s in all by default).
   */
  readonly heartbeatMs?: number;
  /** The name of the lock and channel the tabs meet on; default one per endpoint URL. */
  readonly name?: string;
}

/** Each channel and its cursor, as pairs (what a `BroadcastChannel` carries well). */
type Cursors = ReadonlyArray<readonly [string, string]>;

/**
 * What tabs say to each other: clients to the leader, the leader (`epoch`) to them, each of
 * its messages numbered (`n`: 1, 2, ...), so that a client sees when one did not reach it.
 */
type Message =
  | { readonly t: "want"; readonly from: string; readonly channels: readonly string[]; readonly cursors: Cursors }
  | { readonly t: "leave" | "ping"; readonly from: string }
  | Said<{ readonly t: "leader" | "beat" | "resign" }>
  | Said<{ readonly t: "open"; readonly to: string }>
  | Said<{ readonly t: "open"; readonly members: readonly string[] }>
  | Said<{ readonly t: "frame"; readonly to?: string; readonly raw: string }>
  | Said<{ readonly t: "status"; readonly status: Status }>
  | Said<{ readonly t: "end"; readonly end: StreamEnd }>;

/** A leader's message: its epoch and its number. */
type Said<M> = M & { readonly epoch: number; readonly n?: number };

/** A frame's channel and id, when it has them. */
type Frame = { readonly type?: unknown; readonly channel?: unknown; readonly id?: unknown; readonly cursor?: unknown };

/** A leader's stream open this long counts as healthy: the backoff starts over. */
const HEALTHY_AFTER_MS = 10_000;

/**
 * A `Transport` for one client (make one per client) that shares one stream among the
 * browser's tabs: see the module's documentation.
 */
export function shareAcrossTabs(options: TabSharingOptions = {}): Transport {
  const beatMs = options.heartbeatMs ?? 250;
  const id = globalThis.crypto.getRandomValues(new Uint32Array(2)).join("-");
  const locks = globalThis.navigator?.locks;
  let name: string | undefined;
  let channel: BroadcastChannel | undefined;
  /** The newest leader heard of (its `epoch`: when it took over), and when it last spoke. */
  let leaderEpoch = 0;
  let heardAt = 0;
  /** The latest request of this client: the leader, when it is this one, streams with it. */
  let local: StreamRequest | undefined;
  /** This client's calls so far: each call is a member of its own (`<id>.<n>`). */
  let calls = 0;
  /** The member of the call in progress, if any. */
  let active: string | undefined;
  /** The calls in progress (at most one: the client's run loop waits for each). */
  const listeners = new Set<(message: Message) => void>();
  /** Aborts this client's wait for the lock, or its leadership. */
  let candidacy: AbortController | undefined;
  let leading = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const post = (message: Message): void => channel?.postMessage(message);

  /**
   * Waits for the lock (or takes it, `steal`), then leads until `candidacy` aborts: the lock
   * is released at once then, even in a tab about to be frozen.
   */
  const stand = (steal = false): void => {
    candidacy?.abort();
    const mine = (candidacy = new AbortController());
    const { signal } = mine;
    locks!
      .request(name!, steal ? { steal } : { signal }, () => {
        if (signal.aborted) return undefined;
        void lead(signal);
        return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
      })
      // Given up, or stolen by a tab that found this one silent: either ends the leadership;
      // a client still streaming waits for the lock again.
      .catch(() => {
        mine.abort();
        if (candidacy !== mine) return;
        candidacy = undefined;
        if (listeners.size) stand();
      });
  };

  /** Stops leading and waiting for the lock. */
  const withdraw = (): void => {
    candidacy?.abort();
    candidacy = undefined;
  };

  /** Holds the stream for every tab until `signal` aborts (the lock is held as long). */
  const lead = async (signal: AbortSignal): Promise<void> => {
    leading = true;
    const epoch = Date.now() + Math.random() / 2;
    const hub = new BroadcastChannel(name!);
    let said = 0;
    const say = (message: Message): void => {
      if (!signal.aborted) hub.postMessage({ ...message, n: ++said });
    };
    /** Each client's channels. */
    const members = new Map<string, readonly string[]>();
    /**
     * Each channel: how far the current stream got, everything up to this id forwarded
     * (from where it started: a stream cut short leaves the next one to start there).
     */
    const positions = new Map<string, string>();
    /** Each channel: the next stream must start no later than this. */
    const need = new Map<string, string>();
    let streaming: readonly string[] = [];
    /** The clients the current stream brings everything they asked for. */
    let served = new Set<string>();
    let open = false;
    let connection: AbortController | undefined;
    let wake = new AbortController();
    let restartTimer: ReturnType<typeof setTimeout> | undefined;
    const restart = (): void => {
      clearTimeout(restartTimer);
      restartTimer = setTimeout(() => {
        connection?.abort();
        wake.abort();
      }, 20);
    };
    /** Where a stream of `channelName` must start: everything after it is owed to some client. */
    const from = (channelName: string): string | undefined => need.get(channelName) ?? positions.get(channelName);
    const lower = (channelName: string, cursor: string | undefined): void => {
      const floor = from(channelName);
      if (cursor && (!floor || compareIds(cursor, floor) < 0)) need.set(channelName, cursor);
    };
    /** Whether the current stream brings a client everything past its cursors. */
    const covers = (channels: readonly string[], cursors: ReadonlyMap<string, string>): boolean =>
      channels.every((name) => {
        const cursor = cursors.get(name);
        const base = positions.get(name);
        return streaming.includes(name) && (!cursor || (!!base && compareIds(cursor, base) >= 0));
      });
    const serve = (member: string, channels: readonly string[]): void => {
      say({ t: "open", epoch, to: member });
      for (const name of channels) {
        const cursor = positions.get(name);
        if (cursor) {
          say({ t: "frame", epoch, to: member, raw: JSON.stringify({ type: "connected", channel: name, cursor }) });
        }
      }
    };
    /** The channels some client wants, sorted. */
    const union = (): string[] => [...new Set([...members.values()].flat())].sort();
    /** Drops a client; the stream drops channels nobody wants any more. */
    const drop = (member: string): void => {
      const before = String(union());
      if (members.delete(member) && String(union()) !== before) restart();
    };
    const onMessage = ({ data }: MessageEvent<Message>): void => {
      if (data.t === "ping") say({ t: "beat", epoch });
      else if (data.t === "leave") drop(data.from);
      else if (data.t === "want") {
        const cursors = new Map(data.cursors);
        members.set(data.from, data.channels);
        if (covers(data.channels, cursors)) {
          served.add(data.from);
          if (open) serve(data.from, data.channels);
        } else {
          for (const name of data.channels) lower(name, cursors.get(name));
          restart();
        }
      }
    };
    hub.addEventListener("message", onMessage);
    const beat = setInterval(() => say({ t: "beat", epoch }), beatMs);
    // Clients that close their tab or crash without a `leave`: their lock is gone.
    const sweep = setInterval(async () => {
      const held = new Set((await locks!.query()).held?.map((lock) => lock.name));
      for (const member of members.keys()) {
        const [client] = member.split(".");
        if (!held.has(`${name}#${client}`)) drop(member);
      }
    }, 2_000);
    signal.addEventListener("abort", () => {
      leading = false;
      clearInterval(beat);
      clearInterval(sweep);
      clearTimeout(restartTimer);
      connection?.abort();
      wake.abort();
      hub.postMessage({ t: "resign", epoch, n: ++said } satisfies Message);
      hub.close();
    });
    say({ t: "leader", epoch });
    let attempt = 0;
    while (!signal.aborted) {
      if (wake.signal.aborted) wake = new AbortController();
      // The clients answer `leader` with what they want; a short wait gathers them.
      await sleep(members.size ? 10 : 3_600_000, wake.signal);
      const channels = union();
      if (signal.aborted || !channels.length || !local) {
        streaming = [];
        continue;
      }
      const cursors = new Map<string, string>();
      for (const name of channels) {
        const cursor = from(name);
        if (cursor) cursors.set(name, cursor);
      }
      // It replays from there: what the last one forwarded starts over.
      positions.clear();
      for (const [name, cursor] of cursors) positions.set(name, cursor);
      need.clear();
      streaming = channels;
      // Every client asking so far: its cursors are in `need`, or the stream covered it.
      served = new Set(members.keys());
      const current = (connection = new AbortController());
      let openedAt: number | undefined;
      const end = await readStream({
        ...local,
        channels,
        cursors,
        connection: current,
        onOpen: () => {
          openedAt = Date.now();
          open = true;
          say({ t: "open", epoch, members: [...served] });
        },
        onFrame: (frame, raw) => {
          const { type, channel: name, id: eventId, cursor } = Object(frame) as Frame;
          if (type === "ping") return;
          const at = type === "connected" ? cursor : type === undefined ? eventId : undefined;
          if (typeof name === "string" && isEventId(at)) {
            const known = positions.get(name);
            if (!known || compareIds(at, known) > 0) positions.set(name, at);
          }
          say({ t: "frame", epoch, raw });
        },
        setStatus: () => undefined,
      }).catch((error: unknown): StreamEnd => ({ message: messageOf(error) }));
      open = false;
      if (openedAt && Date.now() - openedAt >= HEALTHY_AFTER_MS) attempt = 0;
      if (!end || signal.aborted) continue; // restarted, aborted, or the server's `reconnect`
      if (end.status === 401 || end.status === 403) {
        // Each client handles it (its `onUnauthorized`) and asks again.
        // (A plain object: a structured clone of an `Error` keeps only its message.)
        say({ t: "end", epoch, end: { message: end.message, status: end.status } });
        members.clear();
        streaming = []; // so that the next `want` wakes this loop
        attempt = 0;
        continue;
      }
      attempt++;
      const retryInMs = Math.max(backoffDelay(attempt), end.retryAfterMs ?? 0);
      const reason = end.status ? `HTTP ${end.status}: ${end.message}` : end.message;
      say({ t: "status", epoch, status: { state: "reconnecting", attempt, retryInMs, reason } });
      await sleep(retryInMs, wake.signal);
    }
  };

  /** Sets up this client's part: its channel, its lock, its candidacy. */
  const join = (url: string): void => {
    name = options.name ?? `realtime-rs:${new URL(url, globalThis.location?.href).href}`;
    channel = new BroadcastChannel(name);
    channel.addEventListener("message", ({ data }: MessageEvent<Message>) => {
      for (const listener of listeners) listener(data);
    });
    // Held for the page's life: the leader drops the clients whose lock is gone.
    void locks!.request(`${name}#${id}`, () => new Promise(() => undefined));
    const doc = globalThis.document;
    doc?.addEventListener("freeze", withdraw);
    doc?.addEventListener("resume", () => {
      if (listeners.size) stand();
    });
    globalThis.addEventListener?.("pagehide", () => {
      if (active) post({ t: "leave", from: active });
    });
  };

  return (request) => {
    if (!locks || typeof BroadcastChannel !== "function") {
      return readStream({
        ...request,
        onOpen: () => {
          request.onOpen();
          request.setStatus({ state: "connected", tabs: "unshared" });
        },
      });
    }
    if (!channel) join(request.url);
    local = request;
    clearTimeout(idleTimer);
    if (!candidacy) stand();
    const me = (active = `${id}.${++calls}`);
    const mine = new Set(request.channels);
    /** Each channel: the last event delivered, so that a replay is not delivered again. */
    const seen = new Map(request.cursors);
    return new Promise<StreamEnd>((resolve) => {
      let open = false;
      let pingedAt = 0;
      /** The number of the leader's last message this call heard (0: none yet). */
      let heard = 0;
      heardAt = Date.now();
      const want = (): void =>
        post({ t: "want", from: me, channels: request.channels, cursors: [...seen] });
      /** Ends the call (`leave`: tell the leader, which goes on without it). */
      const finish = (end: StreamEnd, leave = false): void => {
        if (leave) post({ t: "leave", from: me });
        if (active === me) active = undefined;
        listeners.delete(listener);
        clearInterval(check);
        request.connection.signal.removeEventListener("abort", abort);
        // A client that asks for nothing more soon (closed, or no channels) stops standing.
        idleTimer = setTimeout(() => {
          if (!listeners.size) withdraw();
        }, 100);
        resolve(end);
      };
      const abort = (): void => finish(undefined, true);
      const listener = (message: Message): void => {
        if (!("epoch" in message) || message.epoch < leaderEpoch) return;
        if (message.epoch > leaderEpoch) {
          // A new leader: start over with it (what this client has is in `seen`). One that
          // was there before this call got its `want` already.
          leaderEpoch = message.epoch;
          if (open) return finish(undefined);
          heard = 0;
          if (message.t === "leader") want();
        }
        // A message of the leader's that did not reach this tab (a browser may drop them
        // while it freezes the tab): what it carried may be an event, and the next ones
        // would move this client past it. Ask again, from this client's cursors.
        const n = message.n ?? 0;
        if (heard && n !== heard + 1) return finish(undefined, true);
        heard = n;
        heardAt = Date.now();
        pingedAt = 0;
        if (message.t === "resign") return finish(undefined);
        if (message.t === "end") return finish(message.end);
        if (message.t === "status") {
          open = false;
          return request.setStatus(message.status);
        }
        if (message.t === "open") {
          // Only a stream that counted this call's cursors: one opened before may be past them.
          const forMe = "to" in message ? message.to === me : message.members.includes(me);
          if (forMe && !open) {
            open = true;
            request.onOpen();
            request.setStatus({ state: "connected", tabs: leading ? "leader" : "follower" });
          }
          return;
        }
        if (message.t !== "frame" || !open || (message.to && message.to !== me)) return;
        let frame: unknown = message.raw;
        try {
          frame = JSON.parse(message.raw);
        } catch {
          // Handed on as text: the client reports it.
        }
        const { type, channel: name, id: eventId, cursor } = Object(frame) as Frame;
        if (typeof name === "string" && !mine.has(name)) return;
        const last = typeof name === "string" ? seen.get(name) : undefined;
        // A stream that resumes past what this client has would skip events: ask again,
        // from its cursors (the leader never does this; a safety net).
        if (type === "connected" && last && isEventId(cursor) && compareIds(cursor, last) > 0) return finish(undefined, true);
        if (type === undefined && typeof name === "string" && isEventId(eventId)) {
          if (last && compareIds(eventId, last) <= 0) return; // a replay for another tab
          seen.set(name, eventId);
        }
        request.onFrame(frame, message.raw);
      };
      // A leader that says nothing: ping it; still nothing, take over.
      const check = setInterval(() => {
        const now = Date.now();
        if (now - heardAt < 2 * beatMs) return;
        if (!pingedAt) {
          pingedAt = now;
          post({ t: "ping", from: me });
        } else if (now - pingedAt >= 2 * beatMs && heardAt < pingedAt) {
          pingedAt = 0;
          heardAt = now;
          stand(true);
        }
      }, beatMs);
      listeners.add(listener);
      request.connection.signal.addEventListener("abort", abort);
      if (request.connection.signal.aborted) return abort();
      want();
    });
  };
}
