// The chat UI: React and the unmodified @upstash/realtime client, typed by ./events.ts
// (generated from the server's event enum by `realtime-schema ts --hook`).
//
// Reading: every joined room is a <RoomFeed> with its own `useRealtime` hook. In 1.1.0 the
// client forgets a hook's cursors when that hook's channel list changes, so one hook whose
// list grows would receive earlier events again; one hook per room keeps them.
// Writing: the app's own routes (POST /api/rooms/<room>/messages, ...) check the name
// cookie, validate and emit; a refusal comes back as { error } and is shown.
// History: a room's hook asks the stream for "everything since the page connected"; the
// server moves that point back to before the room's last 50 messages, so the stream replays
// them, then goes live: each message once, in order, no separate history request.
// Access: one connection carries every room, and a refused channel refuses the whole
// connection, so GET /api/rooms/<room> (403 with the reason) runs before a hook is mounted.
// Who's online: the server's presence. The page's stream makes it a member of every room
// it opens (the server's authorization hook says so); `presence.joined` / `presence.left`
// arrive with the room's events; GET /api/realtime/presence?channel=room-<room> gives the
// list when the room opens. Changes that arrive while that request is out are applied
// again on top of its answer, so the list is right whatever crosses the request.
import { FormEvent, useCallback, useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { RealtimeProvider } from "@upstash/realtime/client";
import { useRealtime, type ChatMessage, type Online, type PresenceMember, type Typing } from "./events";
import { api } from "../../../support/web/api";

type RoomInfo = { room: string; private: boolean; members: string[]; canRead: boolean };
type Item =
  | { kind: "message"; author: string; text: string }
  | { kind: "notice"; text: string };
type RoomEvent =
  | { event: "chat.message"; data: ChatMessage }
  | { event: "chat.typing"; data: Typing }
  | { event: "presence.joined"; data: PresenceMember }
  | { event: "presence.left"; data: PresenceMember };
type PresenceEvent = Extract<RoomEvent, { event: "presence.joined" | "presence.left" }>;
/** Who is online in a room: member id -> what it shows. */
type OnlineList = Record<string, Online>;

function applyPresence(list: OnlineList, { event, data }: PresenceEvent): OnlineList {
  const next = { ...list };
  if (event === "presence.joined") next[data.member] = data.info;
  else delete next[data.member];
  return next;
}

function toItem({ event, data }: RoomEvent): Item | null {
  switch (event) {
    case "chat.message":
      return { kind: "message", author: data.author, text: data.text };
    case "presence.joined":
      return { kind: "notice", text: `${data.info.name} joined` };
    case "presence.left":
      return { kind: "notice", text: `${data.info.name} left` };
    default:
      return null;
  }
}

/** One room's hook: its channels (messages and notices, typing) never change, so its cursors are kept. */
function RoomFeed({ room, onEvent }: { room: string; onEvent: (room: string, e: RoomEvent) => void }) {
  useRealtime({
    channels: [`room-${room}`, `typing-${room}`],
    events: ["chat.message", "chat.typing", "presence.joined", "presence.left"],
    onData: (payload) => onEvent(room, payload as RoomEvent),
  });
  return null;
}

/** The lobby: rooms created anywhere. Mounted first, so the stream starts at page load. */
function LobbyFeed({ onCreated }: { onCreated: () => void }) {
  const { status } = useRealtime({
    channels: ["lobby"],
    events: ["room.created"],
    onData: () => onCreated(),
  });
  useEffect(() => {
    (window as any).__status = status;
  }, [status]);
  return (
    <span className="status" id="status" data-status={status}>
      {status}
    </span>
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
  const [online, setOnline] = useState<Record<string, OnlineList>>({});
  // Per room, while its members request is out: the changes that arrived meanwhile.
  const sinceFetch = useRef<Record<string, PresenceEvent[]>>({});
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
    if (payload.event === "presence.joined" || payload.event === "presence.left") {
      sinceFetch.current[room]?.push(payload);
      setOnline((all) => ({ ...all, [room]: applyPresence(all[room] ?? {}, payload) }));
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
      loadOnline(room);
    } catch (e) {
      setRefused((e as Error).message);
    }
  };

  /** The room's members now, with the changes that crossed the request applied again. */
  const loadOnline = (room: string) => {
    sinceFetch.current[room] = [];
    api("GET", `/api/realtime/presence?channel=${encodeURIComponent(`room-${room}`)}`).then(
      (members: PresenceMember[]) => {
        let list: OnlineList = {};
        for (const { member, info } of members) list[member] = info;
        for (const change of sinceFetch.current[room] ?? []) list = applyPresence(list, change);
        delete sinceFetch.current[room];
        setOnline((all) => ({ ...all, [room]: list }));
      },
      (e) => {
        delete sinceFetch.current[room];
        setRefused((e as Error).message);
      },
    );
  };

  // Closing the room closes its stream: the server lists the page as gone.
  const leave = (room: string) => {
    setJoined((current) => current.filter((r) => r !== room));
    const forget = <T,>(all: Record<string, T>) => {
      const rest = { ...all };
      delete rest[room];
      return rest;
    };
    setItems(forget);
    setOnline(forget);
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

  const onlineHere = active
    ? Object.entries(online[active] ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    : [];
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
        <LobbyFeed onCreated={loadRooms} />
      </header>
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
              <div className="online" id="online" data-room={active} data-count={onlineHere.length}>
                <span className="label">online</span>
                {onlineHere.map(([member, info]) => (
                  <span className="member" key={member} data-member={member}>
                    {info.name}
                    {member === name && " (you)"}
                  </span>
                ))}
              </div>
              <div className="messages" id="messages" data-room={active}>
                {(items[active] ?? []).map((item, index) =>
                  item.kind === "message" ? (
                    <div className="message" key={index}>
                      <span className="author">{item.author}</span>
                      <span className="text">{item.text}</span>
                    </div>
                  ) : (
                    <div className="notice" key={index}>
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
    <RealtimeProvider api={{ url: "/api/realtime", withCredentials: true }}>
      <Chat name={name} />
    </RealtimeProvider>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
