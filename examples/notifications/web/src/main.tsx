// The notifications page: sign in as a user, then read `user-<id>` with the unmodified
// @upstash/realtime client; the server's task sends alerts every few seconds, and
// POST /api/notify/<id> sends one on demand.
import { FormEvent, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { RealtimeProvider } from "@upstash/realtime/client";
import { useRealtime, type Alert } from "./events";
import { api } from "../../../support/web/api";

function Feed({ id }: { id: string }) {
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [error, setError] = useState("");
  const { status } = useRealtime({
    channels: [`user-${id}`],
    events: ["notification.alert"],
    onData: ({ data }) => setAlerts((list) => [data as Alert, ...list].slice(0, 50)),
  });
  useEffect(() => {
    (window as any).__status = status;
  }, [status]);
  const sendOne = () =>
    api("POST", `/api/notify/${id}`, { title: "Hello", body: "Sent from the page", level: "info" })
      .then(() => setError(""))
      .catch((e: Error) => setError(e.message));
  return (
    <>
      <header>
        <h1>Notifications for {id}</h1>
        <span className="status" id="status" data-status={status}>
          {status}
        </span>
      </header>
      <button id="send" onClick={sendOne}>Send me one</button>
      {error && <p className="error-text">{error}</p>}
      {alerts.length === 0 && <p>Waiting for notifications…</p>}
      <ul id="alerts">
        {alerts.map((alert, index) => (
          <li key={alerts.length - index} className={alert.level}>
            <strong>{alert.title}</strong> <em>({alert.level})</em>
            <div>{alert.body}</div>
          </li>
        ))}
      </ul>
    </>
  );
}

function App() {
  const [id, setId] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [error, setError] = useState("");
  useEffect(() => {
    api("GET", "/api/me")
      .then((me) => setId(me.id))
      .catch(() => setId(""));
  }, []);
  const login = (event: FormEvent) => {
    event.preventDefault();
    api("POST", "/api/login", { id: draft.trim() })
      .then((me) => setId(me.id))
      .catch((e: Error) => setError(e.message));
  };
  if (id === null) return <p>Loading…</p>;
  if (id === "") {
    return (
      <form onSubmit={login}>
        <h1>Sign in</h1>
        <input id="user" value={draft} onChange={(e) => setDraft(e.target.value)} placeholder="user id" />
        <button id="login" type="submit">Sign in</button>
        {error && <p className="error-text">{error}</p>}
      </form>
    );
  }
  return (
    <RealtimeProvider api={{ url: "/api/realtime", withCredentials: true }}>
      <Feed id={id} />
    </RealtimeProvider>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
