/**
 * `@realtime-rs/client/validate`: checks events against the app's schemas (Standard Schema
 * validators, e.g. the zod schemas `realtime-schema ts` generates). Its own entry point, so
 * a client that validates nothing ships none of it.
 *
 * ```ts
 * import { createClient } from "@realtime-rs/client";
 * import { validateWith } from "@realtime-rs/client/validate";
 * import { z } from "zod";
 *
 * const events = { "chat.message": z.object({ text: z.string() }) };
 * const client = createClient<{ "chat.message": { text: string } }>({ validate: validateWith(events) });
 * ```
 */

import type { EventMap, EventSchemas, StandardIssue, Validator } from "./types.js";

/**
 * A `Validator` from each event's schema: an event without one is `unknown-event`; data its
 * schema refuses is `invalid-event`, with the first issue's message and path. Schemas must
 * validate synchronously (zod's do).
 */
export function validateWith<Events extends EventMap>(schemas: EventSchemas<Events>): Validator {
  const byName = schemas as Readonly<Record<string, EventSchemas<Events>[keyof EventSchemas<Events>]>>;
  return (event, data) => {
    const schema = Object.hasOwn(byName, event) && byName[event];
    if (!schema) return { kind: "unknown-event", message: `unknown event \`${event}\``, path: "" };
    const result = schema["~standard"].validate(data);
    const issue: StandardIssue | undefined =
      result instanceof Promise ? { message: "async schemas are not supported" } : result.issues?.[0];
    return issue && { kind: "invalid-event", message: issue.message, path: pathOf(issue) };
  };
}

/** The issue's path as a JSON pointer, e.g. `/items/0/name`. */
function pathOf(issue: StandardIssue): string {
  return (issue.path ?? [])
    .map((segment) => `/${String(typeof segment === "object" ? segment.key : segment)}`)
    .join("");
}
