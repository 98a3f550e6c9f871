/**
 * A Server-Sent Events parser fed chunk by chunk, as the bytes arrive
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
 * Lines end in LF, CR or CRLF, even when a CRLF or a UTF-8 character is split across chunks.
 * It reads what the protocol uses: `data` lines (every frame is one JSON `data` line; no
 * `event:`, `id:` or `retry:` fields are sent, and any there is ignored).
 */

/** One dispatched event: its `data` lines joined with LF. */
export interface SseMessage {
  readonly data: string;
}

/** Feeds bytes in, calls `onMessage` for each complete event. */
export interface SseParser {
  /** Parses the next chunk of the stream. */
  feed(chunk: Uint8Array): void;
}

/** A parser that calls `onMessage` for each event. One parser reads one connection. */
export function createParser(onMessage: (message: SseMessage) => void): SseParser {
  const decoder = new TextDecoder();
  let line = "";
  let afterCr = false;
  let data: string[] = [];

  const dispatch = (): void => {
    if (data.length) onMessage({ data: data.join("\n") });
    data = [];
  };

  const field = (text: string): void => {
    if (!text) return dispatch();
    // A comment (a line starting with a colon) has the empty name, which is no field.
    const [name = ""] = text.split(":", 1);
    // After the colon, less one space; "" without a colon.
    const value = text.slice(name.length + 1).replace(/^ /, "");
    if (name === "data") data.push(value);
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
