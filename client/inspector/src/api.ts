// What the page asks the server: JSON under `<mount>/api/`, with the admin token (if one
// was entered) as a bearer token; a live tail as Server-Sent Events read with fetch.

export interface EntryProblem {
  path: string;
  rule: string;
  message: string;
}

export interface CheckedEntry {
  id: string;
  event: string;
  data: unknown;
  problem: EntryProblem | null;
}

export interface EventInfo {
  name: string;
  description: string | null;
  schema: Record<string, unknown>;
  example: unknown;
  typescript: string;
}

export interface Info {
  title: string;
  backend: string;
  readOnly: boolean;
  events: EventInfo[];
  limits: { pageSize: number; maxTails: number; tailEntriesPerSecond: number };
}

export interface LiveChannel {
  name: string;
  subscribers: number;
  last_id: string | null;
}

export interface NodeHealth {
  address: string;
  role: string;
  master: string | null;
  replicas: string[];
  state: string;
}

export interface Health {
  atMs: number;
  backend: {
    kind: string;
    nodes: NodeHealth[];
    pubsub: { mode: string; connections: number; reconnects: number; channels: number } | null;
    replica_shortages: number;
    error: string | null;
  };
  failovers: { at_ms: number; node: string; from: string; to: string }[];
  totals: {
    emits: number;
    emits_failed: number;
    deliveries: number;
    catch_ups: number;
    rejected: number;
    open_streams: number;
    delivery_lag_ms: number[];
  };
  lagBucketsMs: number[];
  liveChannels: number;
}

export type TailItem =
  | ({ type: "entry" } & CheckedEntry)
  | { type: "gap"; message: string }
  | { type: "skipped"; count: number }
  | { type: "ended"; message: string };

/** A refusal: the status and the server's `{ error, path?, rule? }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly path: string | undefined,
    readonly rule: string | undefined,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "realtime-inspector-token";
const base = location.pathname.replace(/\/+$/, "") + "/api";

/** Called when a request is refused with 401 or 403: the page asks for a token. */
let onUnauthorized: (error: ApiError) => void = () => {};

export function whenUnauthorized(callback: (error: ApiError) => void): void {
  onUnauthorized = callback;
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

async function refusal(response: Response): Promise<ApiError> {
  let body: { error?: unknown; path?: unknown; rule?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    // not JSON: the status says enough
  }
  const message = typeof body.error === "string" ? body.error : `${response.status} ${response.statusText}`;
  const error = new ApiError(
    response.status,
    message,
    typeof body.path === "string" ? body.path : undefined,
    typeof body.rule === "string" ? body.rule : undefined,
  );
  if (response.status === 401 || response.status === 403) onUnauthorized(error);
  return error;
}

export const channelPath = (channel: string): string => `${base}/channels/${encodeURIComponent(channel)}`;

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path.startsWith(base) ? path : base + path, { headers: headers() });
  if (!response.ok) throw await refusal(response);
  return (await response.json()) as T;
}

export async function emit(channel: string, body: { event: string; data: unknown; key: string }): Promise<string> {
  const response = await fetch(`${channelPath(channel)}/emit`, {
    method: "POST",
    headers: headers({ "content-type": "application/json" }),
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await refusal(response);
  return ((await response.json()) as { id: string }).id;
}

/** Reads a channel's live tail until `signal` aborts; each message goes to `onItem`. */
export async function tail(channel: string, signal: AbortSignal, onItem: (item: TailItem) => void): Promise<void> {
  const response = await fetch(`${channelPath(channel)}/tail`, { headers: headers(), signal });
  if (!response.ok || !response.body) throw await refusal(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data) onItem(JSON.parse(data) as TailItem);
    }
  }
}
