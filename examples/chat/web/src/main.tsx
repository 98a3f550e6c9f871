// The chat UI: React and the repository's own client (@realtime-rs/react, in client/),
// typed and validated by ./events.ts (generated from the server's event enum by
// `realtime-schema ts --client realtime-rs-react`).
//
// Reading: one connection carries every room. Each joined room is a <RoomFeed> with its own
// `useRealtime` hook; opening or closing a room changes the connection's channels, and
// every channel resumes from its own cursor, so nothing arrives twice. The client keeps a
// room's cursor after the room is closed: opened again, the room shows what it showed,
// followed by what was said meanwhile, each message once.
// Writing: the app's own routes (POST /api/rooms/<room>/messages, ...) check the name
// cookie, validate and emit; a refusal comes back as { error } and is shown.
// History: a room opened for the first time has no cursor; the server then starts its
// stream just before the room's last 50 messages, so the stream replays them, then goes
// live: each message once, in order, no separate history request.
// Access: a refused channel refuses the whole connection, so GET /api/rooms/<room> (403
// with the reason) runs before a room's hook is mounted.
// Who's online: the server's presence. The page's stream makes it a member of every room
// it opens (the server's authorization hook says so); `usePresence` reads the list
// (GET /api/realtime/presence) and keeps it current with the room's `presence.joined` /
// `presence.left` events, reading it again after any reconnect.
// Connection: the badge shows the client's status (`useStatus`), with the next try's delay
// while it reconnects.
import { FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import type { RealtimeEvent } from "@realtime-rs/client";
import { shareAcrossTabs } from "@realtime-rs/client/tabs";
import { createClient, RealtimeProvider, usePresence, useRealtime, useStatus, type Events } from "./events";
import { api } from "../../../support/web/api";

type RoomInfo = { room: string; private: boolean; members: string[]; canRead: boolean };
type Item =
  | { kind: "message"; id: string; author: string; text: string }
  | { kind: "notice"; id: string; text: string };
const ROOM_EVENTS = ["chat.message", "chat.typing", "presence.joined", "presence.left"] as const;
type RoomEvent = RealtimeEvent<Events, (typeof ROOM_EVENTS)[number]>;

function toItem({ id, event, data }: RoomEvent): Item | null {
  switch (event) {
    case "chat.message":
      return { kind: "message", id, author: data.author, text: data.text };
    case "presence.joined":
      return { kind: "notice", id, text: `${data.info.name} joined` };
    case "presence.left":
      return { kind: "notice", id, text: `${data.info.name} left` };
    default:
      return null;
  }
}

/** One room's hook: its messages and notices (`room-<room>`) and who is typing (`typing-<room>`). */
function RoomFeed({ room, onEvent }: { room: string; onEvent: (room: string, e: RoomEvent) => void }) {
  useRealtime({
    channels: [`room-${room}`, `typing-${room}`],
    events: ROOM_EVENTS,
    onData: (event) => onEvent(room, event),
  });
  return null;
}

/** The lobby: rooms created anywhere. Mounted first, so the stream starts at page load. */
function LobbyFeed({ onCreated }: { onCreated: () => void }) {
  useRealtime({
    channels: ["lobby"],
    events: ["room.created"],
    onData: () => onCreated(),
  });
  return null;
}

/** The connection's state, and while it reconnects, when and why. */
function StatusBadge() {
  const status = useStatus();
  let detail = "";
  if (status.state === "reconnecting") {
    detail = ` in ${Math.ceil(status.retryInMs / 1000)} s (attempt ${status.attempt})`;
  } else if (status.state === "unauthorized") {
    detail = `: ${status.message}`;
  } else if (status.state === "connected" && status.tabs === "follower") {
    detail = " (through another tab)";
  }
  return (
    <span
      className="status"
      id="status"
      data-status={status.state}
      data-tabs={status.state === "connected" ? status.tabs : undefined}
      title={status.state === "reconnecting" ? status.reason : undefined}
    >
      {status.state}
      {detail}
    </span>
  );
}

/** Who is online in `room`, sorted by member id; `me` is marked. */
function OnlineList({ room, me }: { room: string; me: string }) {
  const members = usePresence(`room-${room}`);
  return (
    <div className="online" id="online" data-room={room} data-count={members.length}>
      <span className="label">online</span>
      {members.map(({ member, info }) => (
        <span className="member" key={member} data-member={member}>
          {info.name}
          {member === me && " (you)"}
        </span>
      ))}
    </div>
  );
}

function NamePrompt({ onName }: { onName: (name: string) => void }) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const result = await api("POST", "/api/name", { name });
      onName(result.name);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <form className="prompt" onSubmit={submit}>
      <h2>Choose a name</h2>
      <input id="name" autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="ada" />
      <button id="name-submit" type="submit">Enter the chat</button>
      {error && <p className="error" id="name-error">{error}</p>}
    </form>
  );
}

function Chat({ name }: { name: string }) {
  const [rooms, setRooms] = useState<RoomInfo[]>([]);
  const [joined, setJoined] = useState<string[]>([]);
  const [active, setActive] = useState<string | null>(null);
  const [items, setItems] = useState<Record<string, Item[]>>({});
  const [typing, setTyping] = useState<Record<string, Record<string, number>>>({});
  const [refused, setRefused] = useState<string | null>(null);
  const [sendError, setSendError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const lastTyping = useRef(0);
  const [, tick] = useState(0);

  const loadRooms = useCallback(() => {
    api("GET", "/api/rooms").then(setRooms, (e) => setRefused((e as Error).message));
  }, []);
  useEffect(loadRooms, [loadRooms]);
  useEffect(() => {
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, []);

  const onEvent = useCallback((room: string, payload: RoomEvent) => {
    if (payload.event === "chat.typing") {
      const author = payload.data.author;
      setTyping((all) => ({ ...all, [room]: { ...all[room], [author]: Date.now() } }));
      return;
    }
    if (payload.event === "chat.message") {
      const author = payload.data.author;
      setTyping((all) => {
        const inRoom = { ...all[room] };
        delete inRoom[author];
        return { ...all, [room]: inRoom };
      });
    }
    const item = toItem(payload);
    if (item) setItems((all) => ({ ...all, [room]: [...(all[room] ?? []), item] }));
  }, []);

  const join = async (room: string) => {
    setRefused(null);
    if (joined.includes(room)) {
      setActive(room);
      return;
    }
    try {
      await api("GET", `/api/rooms/${encodeURIComponent(room)}`);
      setJoined((current) => [...current, room]);
      setActive(room);
    } catch (e) {
      setRefused((e as Error).message);
    }
  };

  // Closing the room takes its channels off the stream: the server lists the page as gone.
  // Its messages stay: opened again, it resumes from the client's cursor.
  const leave = (room: string) => {
    setJoined((current) => current.filter((r) => r !== room));
    if (active === room) setActive(null);
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!active) return;
    try {
      await api("POST", `/api/rooms/${encodeURIComponent(active)}/messages`, { text: draft });
      setDraft("");
      setSendError(null);
    } catch (e) {
      setSendError((e as Error).message);
    }
  };

  const onDraft = (text: string) => {
    setDraft(text);
    if (active && text && Date.now() - lastTyping.current > 2000) {
      lastTyping.current = Date.now();
      api("POST", `/api/rooms/${encodeURIComponent(active)}/typing`).catch(() => {});
    }
  };

  const [newRoom, setNewRoom] = useState("");
  const [isPrivate, setPrivate] = useState(false);
  const [invite, setInvite] = useState("");
  const create = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const members = invite.split(",").map((m) => m.trim()).filter(Boolean);
      await api("POST", "/api/rooms", { room: newRoom, private: isPrivate, members });
      setNewRoom("");
      setInvite("");
      loadRooms();
      await join(newRoom);
    } catch (e) {
      setRefused((e as Error).message);
    }
  };

  const typers = active
    ? Object.entries(typing[active] ?? {})
        .filter(([who, at]) => who !== name && Date.now() - at < 4000)
        .map(([who]) => who)
    : [];

  return (
    <>
      <header>
        <h1>realtime-rs chat</h1>
        <span>
          you are <strong id="me">{name}</strong>
        </span>
        <StatusBadge />
      </header>
      <LobbyFeed onCreated={loadRooms} />
      {joined.map((room) => (
        <RoomFeed key={room} room={room} onEvent={onEvent} />
      ))}
      <main className="chat">
        <aside>
          <h2>Rooms</h2>
          {rooms.map((info) => (
            <div
              key={info.room}
              className={`room${active === info.room ? " active" : ""}`}
              data-room={info.room}
              onClick={() => join(info.room)}
            >
              <span className="name">
                {info.room}
                {info.private && <span className="lock"> · private</span>}
              </span>
              {joined.includes(info.room) && (
                <button
                  className="leave"
                  onClick={(e) => {
                    e.stopPropagation();
                    leave(info.room);
                  }}
                >
                  leave
                </button>
              )}
            </div>
          ))}
          <h2>New room</h2>
          <form className="create" onSubmit={create}>
            <input id="new-room" type="text" placeholder="name" value={newRoom} onChange={(e) => setNewRoom(e.target.value)} />
            <label>
              <input id="new-private" type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} /> private
            </label>
            {isPrivate && (
              <input id="new-invite" type="text" placeholder="invite: bob, eve" value={invite} onChange={(e) => setInvite(e.target.value)} />
            )}
            <button id="create" type="submit">create</button>
          </form>
        </aside>
        <section className="room-view">
          {refused && (
            <p className="error" id="refused">
              {refused}
            </p>
          )}
          {active ? (
            <>
              <OnlineList key={active} room={active} me={name} />
              <div className="messages" id="messages" data-room={active}>
                {(items[active] ?? []).map((item) =>
                  item.kind === "message" ? (
                    <div className="message" key={item.id}>
                      <span className="author">{item.author}</span>
                      <span className="text">{item.text}</span>
                    </div>
                  ) : (
                    <div className="notice" key={item.id}>
                      {item.text}
                    </div>
                  ),
                )}
              </div>
              <div className="typing" id="typing">
                {typers.length > 0 && `${typers.join(", ")} ${typers.length === 1 ? "is" : "are"} typing…`}
              </div>
              {sendError && (
                <p className="error" id="send-error">
                  {sendError}
                </p>
              )}
              <form className="send" onSubmit={send}>
                <input id="draft" value={draft} onChange={(e) => onDraft(e.target.value)} placeholder={`message #${active}`} />
                <button id="send" type="submit">send</button>
              </form>
            </>
          ) : (
            <p className="empty">Pick a room on the left to join it.</p>
          )}
        </section>
      </main>
    </>
  );
}

/** The page's client: it validates every event with the generated schemas. Its stream opens
 * with the first subscription (the lobby's), once a name is chosen, and sends the name
 * cookie (same origin). The browser's tabs share one stream (`shareAcrossTabs`): the chat
 * open in ten tabs costs the server one connection, and stays within the browser's six per
 * origin over HTTP/1.1. */
const client = createClient({ url: "/api/realtime", transport: shareAcrossTabs() });

function App() {
  const [name, setName] = useState<string | null | undefined>(undefined);
  useEffect(() => {
    api("GET", "/api/me").then(
      (me) => setName(me.name),
      () => setName(null),
    );
  }, []);
  if (name === undefined) return null;
  if (name === null) return <NamePrompt onName={setName} />;
  return (
    <RealtimeProvider client={client}>
      <Chat name={name} />
    </RealtimeProvider>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
