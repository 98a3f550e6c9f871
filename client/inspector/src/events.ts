// The Events view: every event of the set with its doc comment, an example value, its
// JSON Schema and the TypeScript the codegen writes for it.

import type { Info } from "./api.js";
import { h, pretty } from "./dom.js";

export function eventsView(info: Info): HTMLElement {
  return h(
    "div",
    { class: "events" },
    h("p", { class: "lead" }, `${info.events.length} events in ${info.title}.`),
    ...info.events.map((event) =>
      h(
        "section",
        { class: "event-card", id: `event-${event.name}` },
        h("h3", {}, event.name),
        event.description ? h("p", { class: "doc" }, event.description) : h("p", { class: "doc none" }, "No doc comment."),
        h(
          "details",
          { open: true },
          h("summary", {}, "Example"),
          event.example === null ? h("p", { class: "none" }, "No example could be made from the schema.") : pretty(event.example),
        ),
        h("details", {}, h("summary", {}, "JSON Schema"), pretty(event.schema)),
        h("details", {}, h("summary", {}, "TypeScript"), h("pre", { class: "ts" }, event.typescript)),
      ),
    ),
  );
}
