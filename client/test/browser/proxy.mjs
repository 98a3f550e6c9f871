// A TCP proxy between the browser and the test server that can cut the network: `cut()`
// resets every open connection and refuses new ones until `restore()`. DevTools' offline
// emulation fails new requests and fires the page's offline/online events, but leaves
// open connections (an event stream) flowing; with the proxy, an outage is an outage.
import { connect, createServer } from "node:net";

export class CuttableProxy {
  #server;
  #sockets = new Set();
  #down = false;

  /** Starts a proxy on a free port of 127.0.0.1 to `port`. */
  static async start(port) {
    const proxy = new CuttableProxy();
    proxy.#server = createServer((client) => proxy.#accept(client, port));
    await new Promise((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    return proxy;
  }

  get origin() {
    return `http://127.0.0.1:${this.#server.address().port}`;
  }

  #accept(client, port) {
    if (this.#down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      this.#sockets.add(from);
      from.pipe(to);
      from.on("error", () => to.destroy());
      from.on("close", () => {
        this.#sockets.delete(from);
        to.destroy();
      });
    }
  }

  /** Resets every open connection; new ones are reset until `restore()`. */
  cut() {
    this.#down = true;
    for (const socket of this.#sockets) socket.resetAndDestroy();
  }

  restore() {
    this.#down = false;
  }

  async close() {
    this.cut();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
