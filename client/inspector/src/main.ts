// The inspector page: a header with the views, and the view the URL's hash names
// (#events, #channels, #channel/<name>, #presence/<name>, #emit, #health).

import { ApiError, type Info, getJson, setToken, whenUnauthorized } from "./api.js";
import { channelView, channelsView } from "./channels.js";
import { fill, h } from "./dom.js";
import { emitView } from "./emit.js";
import { eventsView } from "./events.js";
import { healthView } from "./health.js";
import { presenceView } from "./presence.js";

const main = h("main");
const nav = h("nav");
const login = h("form", { class: "login", hidden: true });
let stopView: () => void = () => {};

function showLogin(error: ApiError): void {
  const token = h("input", { type: "password", name: "token", placeholder: "admin token", autocomplete: "off" });
  fill(
    login,
    h("span", {}, `${error.status}: ${error.message}. `),
    token,
    h("button", { type: "submit" }, "Use this token"),
  );
  login.hidden = false;
  login.onsubmit = (event) => {
    event.preventDefault();
    setToken(token.value);
    location.reload();
  };
}

function route(info: Info): void {
  stopView();
  stopView = () => {};
  const [view = "events", ...rest] = location.hash.replace(/^#/, "").split("/");
  const argument = decodeURIComponent(rest.join("/"));
  for (const link of nav.querySelectorAll("a")) {
    link.classList.toggle("current", link.dataset["view"] === (view === "channel" ? "channels" : view));
  }
  const mount = (shown: { element: HTMLElement; stop: () => void }): void => {
    fill(main, shown.element);
    stopView = shown.stop;
  };
  switch (view) {
    case "channels":
      mount(channelsView(info, (channel) => (location.hash = `#channel/${encodeURIComponent(channel)}`)));
      break;
    case "channel":
      mount(channelView(info, argument));
      break;
    case "presence": {
      const name = h("input", { name: "channel", value: argument, placeholder: "a channel", required: true });
      const form = h(
        "form",
        { class: "open", onsubmit: (event: Event) => (event.preventDefault(), (location.hash = `#presence/${encodeURIComponent(name.value.trim())}`)) },
        name,
        h("button", { type: "submit" }, "Show presence"),
      );
      if (argument) {
        const shown = presenceView(argument);
        fill(main, form, shown.element);
        stopView = shown.stop;
      } else fill(main, form);
      break;
    }
    case "emit":
      fill(main, info.readOnly ? h("p", { class: "none" }, "This inspector is read-only.") : emitView(info, argument || "default"));
      break;
    case "health":
      mount(healthView());
      break;
    default:
      fill(main, eventsView(info));
  }
}

async function start(): Promise<void> {
  document.body.append(
    h("header", {}, h("h1", {}, "Realtime inspector"), nav),
    login,
    main,
  );
  whenUnauthorized(showLogin);
  let info: Info;
  try {
    info = await getJson<Info>("/info");
  } catch (error) {
    fill(main, h("p", { class: "status" }, `Could not load the event set: ${(error as Error).message}`));
    return;
  }
  document.title = `${info.title} · realtime inspector`;
  const views: [string, string][] = [
    ["events", "Events"],
    ["channels", "Channels"],
    ["presence", "Presence"],
    ...(info.readOnly ? [] : ([["emit", "Emit"]] as [string, string][])),
    ["health", "Health"],
  ];
  fill(nav, ...views.map(([view, label]) => h("a", { href: `#${view}`, "data-view": view }, label)), h("span", { class: "backend" }, `${info.title} on ${info.backend}`));
  window.addEventListener("hashchange", () => route(info));
  route(info);
}

void start();
