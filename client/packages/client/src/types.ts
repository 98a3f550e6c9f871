/**
 * The client's public types. An app's event set is a map from event name to data type,
 * e.g. `{ "chat.message": { author: string; text: string }; "counter.tick": number }`;
 * `realtime-schema ts --client realtime-rs` generates it (with the zod schemas) from the
 * Rust enum.
 */

/** Event name -> data type. */
export type EventMap = { readonly [event: string]: unknown };

/** An event name of `Events`. */
export type EventName<Events extends EventMap> = keyof Events & string;

/**
 * One event as a subscription receives it, narrowed by `event`: `{ id, channel, event,
 * data }`, `data` typed by the event's name.
 */
export type RealtimeEvent<Events extends EventMap, Name extends EventName<Events> = EventName<Events>> = {
  readonly [E in Name]: {
    /** The stored event's id, `<ms>-<seq>`: in order per channel. */
    readonly id: string;
    /** The channel it was emitted to. */
    readonly channel: string;
    /** Its name. */
    readonly event: E;
    /** Its data. */
    readonly data: Events[E];
  };
}[Name];

/**
 * A schema in the Standard Schema form (https://standardschema.dev), which zod 4,
 * valibot and arktype implement: the client validates with it without depending on any.
 */
export interface StandardSchema<Output = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => StandardResult<Output> | Promise<StandardResult<Output>>;
  };
}

/** What a Standard Schema's `validate` returns. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

/** One problem found by a schema. */
export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The schema of each event's data: what the generated module gives `validateWith`. */
export type EventSchemas<Events extends EventMap> = {
  readonly [E in EventName<Events>]: StandardSchema<Events[E]>;
};

/** What is wrong with an event's data, as a `Validator` found it. */
export interface ValidationProblem {
  /** `unknown-event`: no schema for the event's name; `invalid-event`: its data breaks it. */
  readonly kind: "unknown-event" | "invalid-event";
  /** What is wrong, as the schema says it. */
  readonly message: string;
  /** Where in the data, as a JSON pointer (`""`: the whole data, or an unknown event). */
  readonly path: string;
}

/**
 * Checks an event's data: what is wrong with it, or `undefined` when it is valid. The
 * client's `validate` option; `validateWith(schemas)` makes one.
 */
export type Validator = (event: string, data: unknown) => ValidationProblem | undefined;

/**
 * A tab's part when tabs share one stream (`shareAcrossTabs`): `leader` holds the stream,
 * `follower` gets its events from the leader, `unshared`: this browser lacks Web Locks or
 * `BroadcastChannel`, so the tab holds a stream of its own.
 */
export type TabRole = "leader" | "follower" | "unshared";

/** The connection's state. */
export type Status =
  | { readonly state: "connecting" }
  | {
      readonly state: "connected";
      /** With `shareAcrossTabs`: this tab's part in the browser's one shared stream. */
      readonly tabs?: TabRole | undefined;
    }
  | {
      readonly state: "reconnecting";
      /** How many tries failed in a row. */
      readonly attempt: number;
      /** When the next try starts, in ms from when this status was set. */
      readonly retryInMs: number;
      /** Why the last try failed. */
      readonly reason: string;
    }
  | { readonly state: "offline" }
  | {
      readonly state: "unauthorized";
      /** 401 or 403. */
      readonly status: number;
      /** The server's message. */
      readonly message: string;
    }
  | { readonly state: "closed" };

/**
 * What went wrong with an event, a request, the stream or the app's own callback (`kind:
 * "callback"`, the exception's text in `message`): reported, never thrown into the app.
 */
export interface RealtimeIssue {
  /** What kind of problem. */
  readonly kind: "invalid-event" | "unknown-event" | "bad-frame" | "server-error" | "presence" | "callback";
  /** What was wrong. */
  readonly message: string;
  /** The channel, when one is concerned. */
  readonly channel?: string;
  /** The event's name, when one is concerned. */
  readonly event?: string;
  /** The event's id, when one is concerned. */
  readonly id?: string;
  /** The JSON path of the invalid part of the data, e.g. `/text`. */
  readonly path?: string;
}

/** What `subscribe` takes. */
export interface SubscribeOptions<Events extends EventMap, Name extends EventName<Events>> {
  /** The channels; default `["default"]`. */
  readonly channels?: readonly string[];
  /** Only these events (default: every event of the set). */
  readonly events?: readonly Name[];
  /**
   * Start with this many of the newest stored events of each channel (at most 1,000; the
   * endpoint's history route must be enabled), then every event after them.
   */
  readonly history?: number;
  /** Called once per event, in id order per channel. */
  readonly onEvent: (event: RealtimeEvent<Events, Name>) => void;
  /** Called for an event that breaks its schema, and for other problems. */
  readonly onError?: (issue: RealtimeIssue) => void;
}

/** What `history` takes. */
export interface HistoryOptions<Name extends string> {
  /** At most this many events, 1 to 1,000; default 100. */
  readonly limit?: number;
  /** Only events after this id (exclusive): paging forward, oldest first. */
  readonly after?: string;
  /** Only events before this id (exclusive): paging back. */
  readonly before?: string;
  /** Only these events. */
  readonly events?: readonly Name[];
}

/** A member of a channel's presence. */
export interface Member<Info = unknown> {
  /** The member's id. */
  readonly member: string;
  /** What it joined with. */
  readonly info: Info;
}

/** The info of a presence member of `Events` (from its `presence.joined` event). */
export type PresenceInfo<Events extends EventMap> = Events extends {
  readonly "presence.joined": { readonly info: infer Info };
}
  ? Info
  : unknown;

/** Counters of what the client dropped or retried, for tests and dashboards. */
export interface ClientStats {
  /** Events whose id the channel had already passed, dropped (a safety net). */
  readonly duplicatesDropped: number;
  /** Events that broke their schema, not delivered. */
  readonly invalidEvents: number;
  /** Stream connections opened. */
  readonly connections: number;
  /** Failed stream tries. */
  readonly failedConnects: number;
}
