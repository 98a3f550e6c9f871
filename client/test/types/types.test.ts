// Compile-time proof that the generated module types the client end to end: a wrong event
// name, wrong data, or a filter naming a missing event does not compile. Checked by
// `tsc -p test/types` (each `@ts-expect-error` line must be an error, or tsc fails).
import { createClient, type Events } from "./events.js";
import type { RealtimeEvent } from "@realtime-rs/client";

const client = createClient({ url: "/api/realtime" });

// Events narrow by name.
client.subscribe({
  channels: ["room-1"],
  events: ["chat.message", "counter.tick"],
  onEvent: (event) => {
    if (event.event === "chat.message") {
      const text: string = event.data.text;
      void text;
    } else {
      const tick: number = event.data;
      void tick;
      // @ts-expect-error: a filtered-out event is not in the union
      if (event.event === "presence.joined") void event;
    }
  },
});

client.subscribe({
  // @ts-expect-error: a filter naming a missing event does not compile
  events: ["chat.mesage"],
  onEvent: () => {},
});

void client.emit("room-1", "chat.message", { author: "ada", text: "hi" });
// @ts-expect-error: a wrong event name
void client.emit("room-1", "chat.mesage", { author: "ada", text: "hi" });
// @ts-expect-error: wrong data (a number for a message)
void client.emit("room-1", "chat.message", 5);
// @ts-expect-error: wrong data (a missing field)
void client.emit("room-1", "chat.message", { author: "ada" });
// @ts-expect-error: wrong data (a string for a tick)
void client.emit("room-1", "counter.tick", "5");

async function typedHistory(): Promise<void> {
  const ticks = await client.history("room-1", { events: ["counter.tick"] });
  const first: number | undefined = ticks[0]?.data;
  void first;
  // @ts-expect-error: history of ticks holds no messages
  const text: string | undefined = ticks[0]?.data.text;
  void text;
  // @ts-expect-error: a filter naming a missing event
  await client.history("room-1", { events: ["nope"] });
}
void typedHistory;

client.presence("room-1", (members) => {
  const name: string | undefined = members[0]?.info.name;
  void name;
  // @ts-expect-error: the info has no such field
  void members[0]?.info.age;
});

const event: RealtimeEvent<Events, "counter.tick"> = { id: "1-0", channel: "c", event: "counter.tick", data: 1 };
void event;
// @ts-expect-error: the data of a tick is a number
const wrong: RealtimeEvent<Events, "counter.tick"> = { id: "1-0", channel: "c", event: "counter.tick", data: "1" };
void wrong;
