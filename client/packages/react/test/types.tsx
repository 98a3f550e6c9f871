// The hooks' types: what compiles, and (each `@ts-expect-error`) what must not. Checked by
//   npx tsc -p packages/react/test
// which also checks the browser test's page (test/browser/page/ours.tsx).
import { createClient, type RealtimeClient } from "@realtime-rs/client";
import { RealtimeProvider, createRealtimeHooks, useRealtime as useRealtimeOf } from "@realtime-rs/react";

type Visitor = { readonly member: string; readonly info: { readonly name: string } };
type Events = {
  "chat.message": { readonly author: string; readonly text: string };
  "counter.tick": number;
  "presence.joined": Visitor;
  "presence.left": Visitor;
};

const { useRealtime, useEmit, useHistory, usePresence, useStatus, useClient } = createRealtimeHooks<Events>();

export function Typed({ room }: { room: string }) {
  // The filter narrows the event: only counter.tick, so data is a number.
  useRealtime({
    channels: [room, undefined],
    events: ["counter.tick"],
    onData: (event) => {
      const tick: number = event.data;
      const name: "counter.tick" = event.event;
      const id: string = event.id;
      void [tick, name, id];
      // @ts-expect-error: a tick has no text
      void event.data.text;
    },
  });
  // No filter: a union narrowed by `event`.
  useRealtime({
    onData: (event) => {
      if (event.event === "chat.message") void event.data.text.toUpperCase();
      // @ts-expect-error: not narrowed, data may be a number
      void event.data.text;
    },
  });
  // @ts-expect-error: a filter naming an event the set does not have
  useRealtime({ events: ["chat.typing"] });
  const { status } = useRealtime({ channels: [room], enabled: false, history: 10 });
  // @ts-expect-error: @upstash's "disconnected" is not a status of this client
  void (status === "disconnected");
  void (status === "reconnecting");

  const emit = useEmit();
  void emit(room, "chat.message", { author: "a", text: "b" });
  void emit(room, "counter.tick", 3);
  // @ts-expect-error: wrong data for the event
  void emit(room, "counter.tick", "3");
  // @ts-expect-error: an event the set does not have
  void emit(room, "chat.typing", "x");

  const history = useHistory(room, { limit: 5, events: ["chat.message"] });
  void history.events.map((event) => event.data.text);
  // @ts-expect-error: a history filter naming an event the set does not have
  useHistory(room, { events: ["chat.typing"] });

  const members = usePresence(room);
  void members.map((member) => member.info.name);

  const state = useStatus();
  if (state.state === "reconnecting") void state.retryInMs;
  const client: RealtimeClient<Events> = useClient();
  void client;
  return null;
}

// The plain hooks take the event set as a type argument (TypeScript does not infer the
// filter's names when a type argument is given: narrow by `event`, or name them too).
export function Plain() {
  useRealtimeOf<Events>({ events: ["chat.message"], onData: (e) => void (e.event === "chat.message" && e.data.author) });
  useRealtimeOf<Events, "chat.message">({ events: ["chat.message"], onData: ({ data }) => void data.author });
  // @ts-expect-error: the plain hook checks the filter too
  useRealtimeOf<Events>({ events: ["chat.typing"] });
  return null;
}

// @upstash/realtime's provider props compile unchanged (maxReconnectAttempts is ignored).
export const upstashStyle = (
  <RealtimeProvider api={{ url: "/api/realtime", withCredentials: true }} maxReconnectAttempts={3}>
    <Plain />
  </RealtimeProvider>
);
export const withClient = (
  <RealtimeProvider client={createClient<Events>({ url: "/api/realtime" })}>
    <Typed room="room-1" />
  </RealtimeProvider>
);
