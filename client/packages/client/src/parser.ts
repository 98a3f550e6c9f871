/**
 * A Server-Sent Events parser fed chunk by chunk, as the bytes arrive
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 * Lines end in LF, CR or CRLF, even when a CRLF or a UTF-8 character is split across chunks.
 */

/** One dispatched event: its `data` lines joined with LF, and its `event` and `id` fields. */
export interface SseMessage {
  readonly data: string;
  readonly event: string;
  readonly id: string | undefined;
}

/** Feeds bytes in, calls `onMessage` for each complete event. */
export interface SseParser {
  /** Parses the next chunk of the stream. */
  feed(chunk: Uint8Array): void;
}

/**
 * A parser that calls `onMessage` for each event. One parser reads one connection (a
 * `retry:` field is ignored: reconnect timing is the client's).
 */
export function createParser(onMessage: (message: SseMessage) => void): SseParser {
  const decoder = new TextDecoder();
  let line = "";
  let afterCr = false;
  let data: string[] = [];
  let event = "";
  let id: string | undefined;

  const dispatch = (): void => {
    if (data.length) {
      onMessage({ data: data.join("\n"), event: event || "message", id });
    }
    data = [];
    event = "";
  };

  const field = (text: string): void => {
    if (!text) return dispatch();
    // A comment (a line starting with a colon) has the empty name, which is no field.
    const [name = ""] = text.split(":", 1);
    // After the colon, less one space; "" without a colon.
    const value = text.slice(name.length + 1).replace(/^ /, "");
    if (name === "data") data.push(value);
    else if (name === "event") event = value;
    else if (name === "id" && !value.includes("\0")) id = value;
  };

  return {
    feed(chunk) {
      const decoded = decoder.decode(chunk, { stream: true });
      if (decoded === "") return; // only part of a UTF-8 character
      // The LF of a CRLF whose CR ended the previous chunk ends no line.
      const text = afterCr && decoded.startsWith("\n") ? decoded.slice(1) : decoded;
      afterCr = decoded.endsWith("\r");
      const lines = (line + text).split(/\r\n|\r|\n/);
      line = lines.pop() ?? "";
      for (const complete of lines) field(complete);
    },
  };
}
