// The test page of @realtime-rs/react: every hook, used as an app would, in a page whose
// room the driver switches. Query parameters:
//   room=<name>     the first room (default room-a)
//   strict          wrap the app in <StrictMode>
//   keyed           the feed is keyed by its room: each switch mounts a new one (under
//                   StrictMode: mounted, unmounted and mounted again)
//   own             the provider makes the client from `options` (else the page makes it)
//   member=<name>   the stream's `X-Member` header: the page is a member of its room
//
// What the page sees is exposed to the driver:
//   window.__events     every onData event { id, channel, event, data }, in arrival order
//   window.__statusLog  every status the client set, e.g. "reconnecting(2)", in order
//   window.__shown      every status the page rendered (what a user saw), in order
//   window.__client     the client (stats, cursors)
//   window.__setRoom    switches the room
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { createClient, type RealtimeClient, type Status } from "@realtime-rs/client";
import { createRealtimeHooks, type RealtimeProviderProps } from "@realtime-rs/react";

type Visitor = { readonly member: string; readonly info: { readonly name: string } };
type Events = {
  "chat.message": { readonly author: string; readonly text: string };
  "counter.tick": number;
  "presence.joined": Visitor;
  "presence.left": Visitor;
};

const { RealtimeProvider, useRealtime, useStatus, usePresence, useEmit, useHistory, useClient } =
  createRealtimeHooks<Events>();

type Received = { id: string; channel: string; event: string; data: unknown };
declare global {
  interface Window {
    __events: Received[];
    __statusLog: string[];
    __shown: string[];
    __client: RealtimeClient<Events>;
    __setRoom: (room: string) => void;
  }
}

const params = new URLSearchParams(location.search);
const member = params.get("member");
const options = {
  url: "/api/realtime",
  ...(member ? { headers: { "X-Member": member } } : {}),
};

window.__events = [];
window.__statusLog = [];
window.__shown = [];

const label = (status: Status): string =>
  status.state === "reconnecting" ? `reconnecting(${status.attempt})` : status.state;

function Feed({ room }: { room: string }) {
  const [count, setCount] = useState(0);
  // A new onData on every render: it must not resubscribe.
  const { status } = useRealtime({
    channels: [room],
    events: ["counter.tick", "chat.message"],
    onData: (event) => {
      window.__events.push({ id: event.id, channel: event.channel, event: event.event, data: event.data });
      setCount((n) => n + 1);
    },
  });
  return (
    <p>
      feed of <code id="feed-room">{room}</code> ({status}): <strong id="count">{count}</strong> events
    </p>
  );
}

function Presence({ room }: { room: string }) {
  const members = usePresence(room);
  return <p id="members">{members.map((m) => m.info.name).join(",")}</p>;
}

function History({ room }: { room: string }) {
  const { events, loading, error, reload } = useHistory(room, { limit: 5, events: ["chat.message"] });
  return (
    <div>
      <button id="reload" onClick={reload}>reload</button>
      <ol id="history" data-loading={String(loading)} data-error={error?.message ?? ""}>
        {events.map((e) => (
          <li key={e.id}>{e.data.text}</li>
        ))}
      </ol>
    </div>
  );
}

function App({ first }: { first: string }) {
  const [room, setRoom] = useState(first);
  const status = useStatus();
  const client = useClient();
  const emit = useEmit();
  const [sent, setSent] = useState("");
  useEffect(() => {
    window.__setRoom = setRoom;
    window.__client = client;
  }, [client]);
  useEffect(() => {
    window.__shown.push(label(status));
  }, [status]);
  return (
    <main>
      <h1>@realtime-rs/react</h1>
      <p>
        status: <strong id="status" data-state={status.state}>{label(status)}</strong>
      </p>
      {params.has("keyed") ? <Feed key={room} room={room} /> : <Feed room={room} />}
      <Presence room={room} />
      <button
        id="send"
        onClick={() => void emit(room, "chat.message", { author: member ?? "page", text: `hello ${room}` }).then(setSent)}
      >
        send
      </button>
      <code id="sent">{sent}</code>
      <History room={room} />
    </main>
  );
}

let provider: Omit<RealtimeProviderProps<Events>, "children">;
if (params.has("own")) {
  provider = { options };
} else {
  provider = { client: createClient<Events>(options) };
}
const app = (
  <RealtimeProvider {...provider}>
    <App first={params.get("room") ?? "room-a"} />
  </RealtimeProvider>
);
createRoot(document.getElementById("root")!).render(params.has("strict") ? <StrictMode>{app}</StrictMode> : app);

// Every status the client sets, including the ones React renders over (a status set
// again unchanged is logged once).
function logStatuses(client: RealtimeClient<Events>) {
  const log = (status: Status) => {
    if (window.__statusLog.at(-1) !== label(status)) window.__statusLog.push(label(status));
  };
  log(client.status);
  client.onStatus(log);
}
const wait = setInterval(() => {
  if (window.__client) {
    clearInterval(wait);
    logStatuses(window.__client);
  }
}, 1);
