// The same page with the unmodified @upstash/realtime 1.1.0 client (tests/e2e's copy), for
// the comparison: one feed whose room the driver switches.
//   window.__events  every onData payload { channel, event, data } (1.1.0 gives no id)
//   window.__shown   every status the page rendered
//   window.__setRoom switches the room
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { RealtimeProvider, useRealtime } from "@upstash/realtime/client";

window.__events = [];
window.__shown = [];

function Feed({ room }) {
  const { status } = useRealtime({
    channels: [room],
    onData: ({ channel, event, data }) => window.__events.push({ channel, event, data }),
  });
  useEffect(() => {
    window.__shown.push(status);
  }, [status]);
  return (
    <p>
      feed of <code id="feed-room">{room}</code>: <strong id="status" data-state={status}>{status}</strong>
    </p>
  );
}

function App({ first }) {
  const [room, setRoom] = useState(first);
  useEffect(() => {
    window.__setRoom = setRoom;
  }, []);
  return (
    <main>
      <h1>@upstash/realtime 1.1.0</h1>
      <Feed room={room} />
    </main>
  );
}

createRoot(document.getElementById("root")).render(
  <RealtimeProvider api={{ url: "/api/realtime" }}>
    <App first={new URLSearchParams(location.search).get("room") ?? "room-a"} />
  </RealtimeProvider>,
);
