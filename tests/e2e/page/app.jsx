// The test page: the unmodified @upstash/realtime browser client, used as an app would.
// The channels are held in React state (initially room-a and room-b); each one is a
// <RoomFeed> with its own `useRealtime` hook, and `#join-c` adds room-c. The provider
// opens one EventSource for the union of the hooks' channels and reconnects (25 ms
// debounce) when it changes, sending the cursors it has seen (`last_ack_<channel>`).
//
// Why one hook per room rather than one hook whose `channels` list grows: in 1.1.0, when
// a hook's channel list changes, the provider unregisters the hook, which deletes the
// cursors of all its channels, and the next connect sends the timestamp of the page's
// first connect for them instead: the server (ours or the reference) then replays every
// event since the page opened, and the page sees them twice. That is the client's
// doing, not the server's, and apps avoid it the same way this page does.
//
// What the page sees is exposed for the driver (run.mjs):
//   window.__events     every onData payload, { channel, event, data }, in arrival order
//   window.__status     the hooks' connection status
//   window.__statusLog  every status change, [{ status, at }]
//   window.__channels   the channels in state
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { RealtimeProvider, useRealtime } from "@upstash/realtime/client";

window.__events = [];
window.__status = "disconnected";
window.__statusLog = [];

function RoomFeed({ channel, onEvent, onStatus }) {
  const { status } = useRealtime({
    channels: [channel],
    onData: ({ event, data, channel }) => onEvent({ channel, event, data }),
  });
  useEffect(() => onStatus(status), [status, onStatus]);
  return null;
}

function App() {
  const [channels, setChannels] = useState(["room-a", "room-b"]);
  const [events, setEvents] = useState([]);
  const [status, setStatus] = useState("disconnected");

  // Stable callbacks: RoomFeed's effect depends on onStatus.
  const [onEvent] = useState(() => (payload) => {
    window.__events.push(payload);
    setEvents((previous) => [...previous, payload]);
  });
  const [onStatus] = useState(() => (next) => setStatus(next));

  useEffect(() => {
    window.__status = status;
    window.__statusLog.push({ status, at: Date.now() });
  }, [status]);

  useEffect(() => {
    window.__channels = channels;
  }, [channels]);

  const joined = channels.includes("room-c");
  return (
    <main>
      {channels.map((channel) => (
        <RoomFeed key={channel} channel={channel} onEvent={onEvent} onStatus={onStatus} />
      ))}
      <h1>@upstash/realtime 1.1.0 client &#x2194; realtime-axum</h1>
      <p>
        status: <strong id="status" data-status={status}>{status}</strong>
        {" · "}channels: <code id="channels">{channels.join(", ")}</code>
        {" · "}events: <strong id="count">{events.length}</strong>{" "}
        <button
          id="join-c"
          disabled={joined}
          onClick={() => setChannels((current) => [...current, "room-c"])}
        >
          {joined ? "joined room-c" : "join room-c"}
        </button>
      </p>
      <table id="events">
        <thead>
          <tr>
            <th>#</th>
            <th>channel</th>
            <th>event</th>
            <th>data</th>
          </tr>
        </thead>
        <tbody>
          {events.map((payload, index) => (
            <tr key={index} className={payload.channel}>
              <td>{index + 1}</td>
              <td>{payload.channel}</td>
              <td>{payload.event}</td>
              <td>
                <code>{JSON.stringify(payload.data)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <RealtimeProvider api={{ url: "/api/realtime" }}>
    <App />
  </RealtimeProvider>,
);
