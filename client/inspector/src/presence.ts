// The Presence view: a channel's members with their info, and joins and leaves as they
// happen (the channel's `presence.joined` / `presence.left` entries, from a live tail).

import { type TailItem, channelPath, getJson, tail } from "./api.js";
import { clock, fill, h, pretty } from "./dom.js";

interface Member {
  member: string;
  info: unknown;
}

export function presenceView(channel: string): { element: HTMLElement; stop: () => void } {
  const members = new Map<string, unknown>();
  const list = h("tbody");
  const log = h("ol", { class: "presence-log", reversed: true });
  const status = h("p", { class: "status" }, "Loading…");
  const render = (): void => {
    fill(
      list,
      ...[...members.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([member, info]) => h("tr", { "data-member": member }, h("td", {}, h("code", {}, member)), h("td", {}, pretty(info)))),
    );
    status.textContent = `${members.size} present.`;
  };
  const stop = new AbortController();
  const onItem = (item: TailItem): void => {
    if (item.type !== "entry" || !item.event.startsWith("presence.") || item.problem) return;
    const data = item.data as Member;
    if (item.event === "presence.joined") members.set(data.member, data.info);
    else if (item.event === "presence.left") members.delete(data.member);
    else return;
    const ms = Number(item.id.split("-")[0]);
    log.prepend(h("li", {}, `${clock(ms)} `, h("code", {}, data.member), item.event === "presence.joined" ? " joined" : " left"));
    render();
  };
  // The tail first, so no change between the list and the tail is missed.
  void tail(channel, stop.signal, onItem).catch((error: Error) => {
    if (!stop.signal.aborted) status.textContent = `Live changes: ${error.message}`;
  });
  void getJson<{ members: Member[] }>(`${channelPath(channel)}/presence`).then(
    (answer) => {
      for (const member of answer.members) members.set(member.member, member.info);
      render();
    },
    (error: Error) => (status.textContent = `Presence: ${error.message}`),
  );
  const element = h(
    "div",
    { class: "presence" },
    h("h3", {}, "Presence of ", h("code", {}, channel)),
    status,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Member"), h("th", {}, "Info"))), list),
    h("h4", {}, "Joins and leaves"),
    log,
  );
  return { element, stop: () => stop.abort() };
}
