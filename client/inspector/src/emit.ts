// The Emit view: pick an event, fill a form (or its JSON), checked against the event's
// schema in the page as you type and by the server when sent, with an idempotency key:
// sending again what was not changed reuses the key, so it is stored once.

import { ApiError, type EventInfo, type Info, emit } from "./api.js";
import { type Problem, check } from "./check.js";
import { fill, h } from "./dom.js";

interface Property {
  type?: unknown;
  enum?: unknown[];
  description?: string;
}

/** The schema a top-level `$ref` points to, within the schema's own `$defs`. */
function resolve(schema: Record<string, unknown>): Record<string, unknown> {
  const target = schema["$ref"];
  const definitions = schema["$defs"] as Record<string, Record<string, unknown>> | undefined;
  if (typeof target !== "string" || !target.startsWith("#/$defs/") || !definitions) return schema;
  return definitions[target.slice("#/$defs/".length)] ?? schema;
}

export function emitView(info: Info, defaultChannel: string): HTMLElement {
  const channel = h("input", { name: "channel", value: defaultChannel, required: true });
  const select = h("select", { name: "event" }, ...info.events.map((event) => h("option", { value: event.name }, event.name)));
  const fields = h("div", { class: "fields" });
  const json = h("textarea", { name: "data", rows: "10", spellcheck: false });
  const problems = h("ul", { class: "problems" });
  const answer = h("p", { class: "answer" });
  const send = h("button", { type: "submit" }, "Send");
  let key = crypto.randomUUID();
  const current = (): EventInfo => info.events.find((event) => event.name === select.value) ?? info.events[0]!;

  const parsed = (): { ok: true; value: unknown } | { ok: false; error: string } => {
    try {
      return { ok: true, value: JSON.parse(json.value) as unknown };
    } catch (error) {
      return { ok: false, error: `not JSON: ${(error as Error).message}` };
    }
  };
  const validate = (): boolean => {
    const data = parsed();
    const found: Problem[] = data.ok ? check(current().schema, data.value) : [{ path: "", message: data.error }];
    fill(problems, ...found.map((problem) => h("li", {}, h("code", { class: "path" }, problem.path || "(the data)"), ` ${problem.message}`)));
    return found.length === 0;
  };
  const changed = (): void => {
    key = crypto.randomUUID();
    answer.textContent = "";
    validate();
  };
  const renderFields = (): void => {
    const event = current();
    json.value = JSON.stringify(event.example ?? {}, null, 2);
    const schema = resolve(event.schema) as { properties?: Record<string, Property>; type?: unknown };
    const properties = schema.type === "object" || schema.properties ? Object.entries(schema.properties ?? {}) : [];
    fill(
      fields,
      ...properties.map(([name, property]) => {
        const kind = Array.isArray(property.type) ? property.type.find((t) => t !== "null") : property.type;
        const value = (): unknown => (parsed() as { value?: Record<string, unknown> }).value?.[name];
        const set = (next: unknown): void => {
          const data = parsed();
          const object = data.ok && typeof data.value === "object" && data.value !== null ? (data.value as Record<string, unknown>) : {};
          object[name] = next;
          json.value = JSON.stringify(object, null, 2);
          changed();
        };
        let input: HTMLInputElement | HTMLSelectElement;
        if (property.enum) {
          input = h("select", {}, ...property.enum.map((option) => h("option", { value: JSON.stringify(option) }, String(option))));
          input.value = JSON.stringify(value());
          input.addEventListener("change", () => set(JSON.parse(input.value)));
        } else if (kind === "boolean") {
          input = h("input", { type: "checkbox" });
          input.checked = value() === true;
          input.addEventListener("change", () => set((input as HTMLInputElement).checked));
        } else if (kind === "integer" || kind === "number" || kind === "string") {
          input = h("input", { type: kind === "string" ? "text" : "number" });
          const now = value();
          input.value = now === undefined || now === null ? "" : String(now);
          input.addEventListener("input", () => set(kind === "string" ? input.value : Number(input.value)));
        } else {
          return h("p", { class: "field nested" }, h("code", {}, name), " (edit it in the JSON below)");
        }
        input.setAttribute("name", `field-${name}`);
        return h("label", { class: "field", title: property.description ?? "" }, h("span", {}, name), input);
      }),
    );
    changed();
  };
  select.addEventListener("change", renderFields);
  json.addEventListener("input", changed);
  renderFields();

  const form = h(
    "form",
    {
      class: "emit",
      onsubmit: (submitted: Event) => {
        submitted.preventDefault();
        if (!validate()) {
          answer.className = "answer refused";
          answer.textContent = "Not sent: the data breaks the schema (see above).";
          return;
        }
        const data = parsed();
        if (!data.ok) return;
        send.disabled = true;
        const sentKey = key;
        emit(channel.value.trim(), { event: current().name, data: data.value, key: sentKey }).then(
          (id) => {
            answer.className = "answer stored";
            fill(answer, "Stored as ", h("code", { class: "stored-id" }, id), ` (idempotency key ${sentKey}).`);
          },
          (error: unknown) => {
            answer.className = "answer refused";
            const path = error instanceof ApiError && error.path !== undefined ? ` at ${error.path || "(the data)"}` : "";
            answer.textContent = `Refused by the server${path}: ${(error as Error).message}`;
          },
        ).finally(() => (send.disabled = false));
      },
    },
    h("label", {}, h("span", {}, "Channel"), channel),
    h("label", {}, h("span", {}, "Event"), select),
    fields,
    h("label", { class: "json" }, h("span", {}, "Data (JSON)"), json),
    problems,
    send,
    answer,
  );
  return form;
}
