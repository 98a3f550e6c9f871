// How a stored entry looks: its id (and time), its event, its data; an entry that breaks
// the schema is flagged with the JSON path and rule, never hidden.

import type { CheckedEntry } from "./api.js";
import { clock, h, pretty } from "./dom.js";

export function entryView(entry: CheckedEntry, live = false): HTMLElement {
  const ms = Number(entry.id.split("-")[0]);
  const problem = entry.problem;
  return h(
    "article",
    { class: problem ? "entry bad" : "entry", "data-id": entry.id, "data-event": entry.event },
    h(
      "header",
      {},
      h("code", { class: "id" }, entry.id),
      Number.isFinite(ms) ? h("span", { class: "time" }, clock(ms)) : null,
      h("strong", { class: "event" }, entry.event),
      live ? h("span", { class: "badge live" }, "live") : null,
    ),
    problem
      ? h(
          "p",
          { class: "problem" },
          "Breaks the schema at ",
          h("code", { class: "path" }, problem.path === "" ? "(the data)" : problem.path),
          ", rule ",
          h("code", { class: "rule" }, problem.rule),
          `: ${problem.message}`,
        )
      : null,
    pretty(entry.data),
  );
}
