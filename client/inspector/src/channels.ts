// The Channels view: the channels this process serves now, and any channel by name: its
// history (newest first, a page at a time, filtered by event) and a live tail.

import { type CheckedEntry, type Info, type LiveChannel, type TailItem, channelPath, getJson, tail } from "./api.js";
import { append, fill, h } from "./dom.js";
import { entryView } from "./entries.js";

export function channelsView(info: Info, open: (channel: string) => void): { element: HTMLElement; stop: () => void } {
  const table = h("tbody");
  const refresh = async (): Promise<void> => {
    const { channels } = await getJson<{ channels: LiveChannel[] }>("/channels");
    fill(
      table,
      ...(channels.length === 0
        ? [h("tr", {}, h("td", { colspan: "3", class: "none" }, "No channel has subscribers in this process now."))]
        : channels.map((channel) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `#channel/${encodeURIComponent(channel.name)}` }, channel.name)),
              h("td", { class: "num" }, String(channel.subscribers)),
              h("td", {}, h("code", {}, channel.last_id ?? "–")),
            ),
          )),
    );
  };
  void refresh().catch(() => {});
  const timer = setInterval(() => void refresh().catch(() => {}), 2000);
  const name = h("input", { name: "channel", placeholder: "a channel, e.g. default", required: true });
  const element = h(
    "div",
    { class: "channels" },
    h(
      "form",
      {
        class: "open",
        onsubmit: (event: Event) => {
          event.preventDefault();
          open(name.value.trim());
        },
      },
      name,
      h("button", { type: "submit" }, "Open"),
    ),
    h("h3", {}, "Served by this process"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Channel"), h("th", {}, "Subscribers"), h("th", {}, "Last id"))), table),
  );
  void info;
  return { element, stop: () => clearInterval(timer) };
}

export function channelView(info: Info, channel: string): { element: HTMLElement; stop: () => void } {
  const list = h("div", { class: "entries history" });
  const live = h("div", { class: "entries live" });
  const status = h("p", { class: "status" });
  const more = h("button", { type: "button", class: "older" }, "Older");
  const picks = info.events.map((event) => h("input", { type: "checkbox", value: event.name }));
  let older: string | null = null;
  const filter = (): string =>
    picks
      .filter((pick) => pick.checked)
      .map((pick) => pick.value)
      .join(",");
  const load = async (reset: boolean): Promise<void> => {
    if (reset) {
      older = null;
      list.replaceChildren();
    }
    const query = new URLSearchParams({ limit: "50" });
    if (older) query.set("before", older);
    if (filter()) query.set("event", filter());
    try {
      const page = await getJson<{ entries: CheckedEntry[]; older: string | null }>(`${channelPath(channel)}/history?${query}`);
      append(list, ...page.entries.map((entry) => entryView(entry)));
      older = page.older;
      more.disabled = older === null;
      status.textContent = list.childElementCount === 0 ? "No entries." : `${list.childElementCount} entries shown.`;
    } catch (error) {
      status.textContent = `History: ${(error as Error).message}`;
    }
  };
  more.addEventListener("click", () => void load(false));
  for (const pick of picks) pick.addEventListener("change", () => void load(true));
  void load(true);

  const stopTail = new AbortController();
  const tailStatus = h("p", { class: "status tail-status" }, "Connecting the live tail…");
  const onItem = (item: TailItem): void => {
    if (item.type === "entry") {
      const wanted = filter() === "" || filter().split(",").includes(item.event);
      if (wanted) live.prepend(entryView(item, true));
      while (live.childElementCount > 200) live.lastElementChild?.remove();
    } else if (item.type === "skipped") {
      live.prepend(h("p", { class: "note" }, `${item.count} entries not shown (too many a second): they are in the history.`));
    } else {
      live.prepend(h("p", { class: "note" }, item.message));
    }
  };
  void tail(channel, stopTail.signal, onItem).then(
    () => (tailStatus.textContent = "The live tail ended."),
    (error: Error) => {
      if (!stopTail.signal.aborted) tailStatus.textContent = `Live tail: ${error.message}`;
    },
  );
  tailStatus.textContent = "Live: new entries appear here as they are stored.";
  const element = h(
    "div",
    { class: "channel" },
    h("h3", {}, "Channel ", h("code", { class: "channel-name" }, channel)),
    h("fieldset", { class: "filter" }, h("legend", {}, "Only these events"), ...picks.map((pick) => h("label", {}, pick, pick.value))),
    h("h4", {}, "Live tail"),
    tailStatus,
    live,
    h("h4", {}, "History, newest first"),
    status,
    list,
    more,
  );
  return { element, stop: () => stopTail.abort() };
}
