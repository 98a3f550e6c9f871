// A page with one `@realtime-rs/client` client (no React), for the tab-sharing and emit
// tests:
//   ?channels=a,b   the channels it subscribes to (default `tabs`; `channels=` none: the
//                   page only emits, and opens no stream)
//   &share=0        a stream of its own instead of `shareAcrossTabs()`
//   &maxQueued=n    the client's `maxQueuedEmits`
//   &token=t        sends `Authorization: Bearer <window.__token>` (first t); on 401 it waits
//                   for window.__reconnect()
//   window.__got     every event it delivered: { channel, id, data }
//   window.__status  its status; also on #status as data-state and data-tabs
//   window.__stats() the client's stats
//   window.__subscribe(channels) one more subscription (returns nothing; its events go to
//                              window.__got too)
//   window.__emit(channel, n)  emits `counter.tick` n; its outcome lands in window.__emits
//                              ({ n, id } or { n, error }, in call order)
import { createClient, type Status } from "@realtime-rs/client";
import { shareAcrossTabs } from "@realtime-rs/client/tabs";

declare global {
  interface Window {
    __got: { channel: string; id: string; data: unknown }[];
    __status: Status;
    __issues: unknown[];
    __stats: () => unknown;
    __emits: { n: number; id?: string; error?: string; at?: number }[];
    __emit: (channel: string, n: number) => void;
    __token: string | null;
    __reconnect: () => void;
    __subscribe: (channels: string[]) => void;
  }
}

const query = new URLSearchParams(location.search);
window.__token = query.get("token");
const channels = (query.get("channels") ?? "tabs").split(",").filter(Boolean);
const client = createClient({
  url: "/api/realtime",
  ...(query.get("share") === "0" ? {} : { transport: shareAcrossTabs() }),
  ...(query.has("maxQueued") ? { maxQueuedEmits: Number(query.get("maxQueued")) } : {}),
  ...(window.__token ? { headers: () => ({ Authorization: `Bearer ${window.__token}` }) } : {}),
  onError: (issue) => window.__issues.push(issue),
});
window.__got = [];
window.__issues = [];
window.__stats = () => client.stats;
window.__reconnect = () => client.reconnect();
window.__emits = [];
window.__emit = (channel, n) => {
  const outcome: (typeof window.__emits)[number] = { n };
  window.__emits.push(outcome);
  client.emit(channel, "counter.tick", n).then(
    (id) => Object.assign(outcome, { id, at: Date.now() }),
    (error: Error) => Object.assign(outcome, { error: error.message, at: Date.now() }),
  );
};

const shown = document.createElement("p");
shown.id = "status";
document.getElementById("root")!.append(shown);
const show = (status: Status): void => {
  window.__status = status;
  shown.dataset.state = status.state;
  shown.dataset.tabs = status.state === "connected" ? (status.tabs ?? "") : "";
  shown.textContent = `${status.state} ${shown.dataset.tabs}`;
};
show(client.status);
client.onStatus(show);
window.__subscribe = (more) => {
  client.subscribe({
    channels: more,
    onEvent: ({ channel, id, data }) => window.__got.push({ channel, id, data }),
    onError: (issue) => window.__issues.push(issue),
  });
};
if (channels.length) window.__subscribe(channels);
