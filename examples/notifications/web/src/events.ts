// The events of `NotificationEvent` (src/events.rs), for the browser.

import { z } from "zod";
import { createRealtime } from "@upstash/realtime/client";

/** How serious a notification is. */
export const Level = z.enum(["info", "warning", "error"]);
export type Level = z.infer<typeof Level>;

/** A notification for one user. */
export const Alert = z.object({
  /** A short title: 1 to 80 characters. */
  title: z.string().min(1).max(80),
  /** The text: at most 500 characters. */
  body: z.string().max(500),
  /** How serious it is. */
  level: Level,
});
export type Alert = z.infer<typeof Alert>;

export const schema = {
  notification: {
    /** A notification (on the channel `user-<id>`). */
    alert: Alert,
  },
};

export type RealtimeEvents = typeof schema;

export const { useRealtime } = createRealtime<RealtimeEvents>();
