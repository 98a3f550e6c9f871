// Type-level tests of the generated modules: every `@ts-expect-error` line must fail to
// compile (tsc reports an unused directive otherwise), everything else must compile.
import { Realtime } from "@upstash/realtime";
import type { Redis } from "@upstash/redis";
import {
  schema,
  useRealtime,
  type ChatMessage,
  type Comment,
  type Shape,
  type InheritedKeys,
  type RealtimeEvents,
} from "./generated/corpus.js";
import type * as Plain from "./generated/corpus.types.js";
import type * as Big from "./generated/corpus.bigint.js";

declare const redis: Redis;
const realtime = new Realtime({ schema, redis });

export async function emitIsTypedByTheSchema(): Promise<void> {
  await realtime.emit("notification.alert", "hello");
  await realtime.channel("room-1").emit("chat.message", { userId: "u1", text: "hi" });
  await realtime.emit("billing.invoicePaid", { invoice: "i1", cents: 5 });
  await realtime.emit("system.reset", null);
  await realtime.emit("shape.drawn", { rect: { width: 1, height: 2 } });
  await realtime.emit("action.taken", { type: "select", id: "t1" });
  await realtime.emit("tree.updated", { label: "r", children: [{ label: "c", children: [] }] });

  // @ts-expect-error a misspelled event name
  await realtime.emit("chat.mesage", { userId: "u1", text: "hi" });
  // @ts-expect-error a namespace is not an event
  await realtime.emit("chat", { userId: "u1", text: "hi" });
  // @ts-expect-error a wrong payload type
  await realtime.emit("notification.alert", 3);
  // @ts-expect-error a missing required field
  await realtime.emit("chat.message", { userId: "u1" });
  // @ts-expect-error a field of the wrong type
  await realtime.emit("metrics.flags", { enabled: "yes" });
  // @ts-expect-error a value outside a string enum
  await realtime.emit("task.prioritized", { priority: "urgent", version: "v1" });
  // @ts-expect-error an unknown internal tag
  await realtime.emit("action.taken", { type: "jump" });
  // @ts-expect-error a wrong type deep in a recursive value
  await realtime.emit("tree.updated", { label: "r", children: [{ label: 1, children: [] }] });
}

export function hookIsTypedByTheSchema(): void {
  useRealtime({
    events: ["chat.message", "billing.invoicePaid"],
    onData: ({ event, data }) => {
      if (event === "chat.message") {
        const text: string = data.text;
        const reply: string | null | undefined = data.replyTo;
        void text;
        void reply;
      } else {
        const cents: number = data.cents;
        void cents;
      }
    },
  });
  // @ts-expect-error a misspelled event name
  useRealtime({ events: ["chat.mesage"] });
  useRealtime({
    events: ["notification.alert"],
    // @ts-expect-error the data of notification.alert is a string
    onData: ({ data }) => data.text,
  });
}

export function inferredTypesMatchTheRustTypes(): void {
  const message: ChatMessage = { userId: "u1", text: "hi", replyTo: null };
  const tree: Comment = { text: "t", replies: [{ author: "a", comment: { text: "c", replies: [] } }] };
  const shapes: Shape[] = ["empty", { circle: 1 }, { segment: [1, 2] }];
  type Alert = RealtimeEvents["notification"]["alert"];
  const parsed: string = (schema.notification.alert satisfies Alert).parse("x");
  // @ts-expect-error a missing field
  const missing: ChatMessage = { userId: "u1" };
  // @ts-expect-error a tuple of the wrong length
  const segment: Shape = { segment: [1] };
  void [message, tree, shapes, parsed, missing, segment];
}

export function plainTypesMapEventNamesToPayloads(): void {
  const joined: Plain.RealtimeEvents["chat.message"] = { userId: "u1", text: "hi" };
  const event: Plain.RealtimeEvent = { event: "notification.alert", data: "hi" };
  const name: Plain.RealtimeEventName = "billing.invoicePaid";
  // @ts-expect-error a misspelled event name
  const wrongName: Plain.RealtimeEventName = "billing.paid";
  // @ts-expect-error a payload of another event
  const wrongData: Plain.RealtimeEvent = { event: "notification.alert", data: { userId: "u1", text: "hi" } };
  // @ts-expect-error a missing field
  const missing: Plain.RealtimeEvents["chat.message"] = { text: "hi" };
  void [joined, event, name, wrongName, wrongData, missing];
}

export function bigintOptionTypes64BitIntegersAsBigint(): void {
  const sample: Big.CorpusSample = { count: 1, ratio: 0, small: 0, level: 1, delta: -1n, total: 18446744073709551615n };
  // @ts-expect-error a number where a bigint is expected
  const number: Big.CorpusSample = { count: 1, ratio: 0, small: 0, level: 1, delta: 1, total: 2 };
  void [sample, number];
}

// An object literal has Object's `toString` and `constructor`: optional properties of those
// names still accept one without them.
export const inheritedKeys: InheritedKeys = { hasOwnProperty: false, ["__proto__"]: "p" };
export const plainInheritedKeys: Plain.InheritedKeys = { hasOwnProperty: true, ["__proto__"]: "" };
// @ts-expect-error a number for the string `toString`
export const wrongInheritedKeys: InheritedKeys = { hasOwnProperty: false, ["__proto__"]: "p", toString: 1 };
