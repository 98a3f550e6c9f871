// The Health view: the backend's kind, nodes, roles and replicas, the pub/sub connections,
// recent failovers, and live figures from the process's own counters (polled once a
// second) drawn as small charts of the last minute.

import { type Health, getJson } from "./api.js";
import { clock, fill, h } from "./dom.js";

const SAMPLES = 60;
const SVG = "http://www.w3.org/2000/svg";

interface Series {
  label: string;
  unit: string;
  values: number[];
}

function sparkline(series: Series): HTMLElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${SAMPLES} 30`);
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...series.values);
  // The samples so far span the width (a minute once it is full).
  const step = SAMPLES / Math.max(series.values.length - 1, 1);
  const points = series.values.map((value, index) => `${index * step},${30 - (value / max) * 28}`).join(" ");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points);
  svg.appendChild(line);
  const last = series.values.at(-1);
  return h(
    "figure",
    { class: "chart", "data-label": series.label },
    h("figcaption", {}, series.label, h("strong", {}, last === undefined ? "–" : `${round(last)} ${series.unit}`)),
    svg as unknown as HTMLElement,
  );
}

const round = (value: number): string => (value >= 100 ? value.toFixed(0) : value.toFixed(value >= 10 ? 1 : 2));

/** The lag under which 99% of the deliveries between two samples fell. */
function lagP99(before: number[], after: number[], bounds: number[]): number {
  const counts = after.map((count, index) => count - (before[index] ?? 0));
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return 0;
  let seen = 0;
  for (const [index, count] of counts.entries()) {
    seen += count;
    if (seen >= total * 0.99) return bounds[index] ?? (bounds.at(-1) ?? 0) * 2;
  }
  return 0;
}

export function healthView(): { element: HTMLElement; stop: () => void } {
  const summary = h("div", { class: "summary" });
  const nodes = h("div", { class: "nodes" });
  const charts = h("div", { class: "charts" });
  const failovers = h("div", { class: "failovers" });
  const series: Record<string, Series> = {
    emits: { label: "Emits", unit: "/s", values: [] },
    deliveries: { label: "Deliveries", unit: "/s", values: [] },
    streams: { label: "Open streams", unit: "", values: [] },
    lag: { label: "Delivery lag p99", unit: "ms", values: [] },
    catchUps: { label: "Catch-ups", unit: "/s", values: [] },
  };
  let previous: Health | null = null;
  const sample = async (): Promise<void> => {
    const health = await getJson<Health>("/health");
    const backend = health.backend;
    fill(
      summary,
      h("p", {}, "Backend ", h("strong", { class: "backend-kind" }, backend.kind), `, ${health.liveChannels} live channels in this process.`),
      backend.pubsub
        ? h("p", { class: "pubsub" }, `Pub/sub (${backend.pubsub.mode}): ${backend.pubsub.connections} connections open, ${backend.pubsub.reconnects} lost since start, ${backend.pubsub.channels} channels subscribed.`)
        : null,
      backend.replica_shortages > 0 ? h("p", { class: "warning" }, `${backend.replica_shortages} masters short of replicas: replicated emits to them are refused.`) : null,
      backend.error ? h("p", { class: "warning" }, `Nodes: ${backend.error}`) : null,
    );
    fill(
      nodes,
      backend.nodes.length === 0
        ? h("p", { class: "none" }, "No storage nodes: the embedded backend keeps everything in this process.")
        : h(
            "table",
            {},
            h("thead", {}, h("tr", {}, h("th", {}, "Node"), h("th", {}, "Role"), h("th", {}, "Master"), h("th", {}, "Replicas"), h("th", {}, "State"))),
            h(
              "tbody",
              {},
              ...backend.nodes.map((node) =>
                h(
                  "tr",
                  { class: node.state === "ok" ? "node" : "node bad" },
                  h("td", {}, h("code", {}, node.address)),
                  h("td", {}, node.role),
                  h("td", {}, node.master ?? "–"),
                  h("td", {}, node.replicas.join(", ") || "–"),
                  h("td", {}, node.state),
                ),
              ),
            ),
          ),
    );
    fill(
      failovers,
      health.failovers.length === 0
        ? h("p", { class: "none" }, "No role change seen since this page's server started watching.")
        : h("ul", {}, ...health.failovers.map((change) => h("li", {}, `${clock(change.at_ms)} ${change.node}: ${change.from} → ${change.to}`))),
    );
    if (previous) {
      const seconds = Math.max(0.001, (health.atMs - previous.atMs) / 1000);
      const rate = (now: number, before: number): number => Math.max(0, now - before) / seconds;
      const push = (name: string, value: number): void => {
        const values = series[name]!.values;
        values.push(value);
        if (values.length > SAMPLES) values.shift();
      };
      push("emits", rate(health.totals.emits, previous.totals.emits));
      push("deliveries", rate(health.totals.deliveries, previous.totals.deliveries));
      push("streams", health.totals.open_streams);
      push("lag", lagP99(previous.totals.delivery_lag_ms, health.totals.delivery_lag_ms, health.lagBucketsMs));
      push("catchUps", rate(health.totals.catch_ups, previous.totals.catch_ups));
    }
    previous = health;
    fill(charts, ...Object.values(series).map(sparkline));
  };
  const error = h("p", { class: "status" });
  const tick = (): void =>
    void sample().then(
      () => (error.textContent = ""),
      (failure: Error) => (error.textContent = `Health: ${failure.message}`),
    );
  tick();
  const timer = setInterval(tick, 1000);
  const element = h(
    "div",
    { class: "health" },
    error,
    summary,
    h("h3", {}, "Live figures (this process)"),
    charts,
    h("h3", {}, "Nodes"),
    nodes,
    h("h3", {}, "Recent failovers"),
    failovers,
  );
  return { element, stop: () => clearInterval(timer) };
}
