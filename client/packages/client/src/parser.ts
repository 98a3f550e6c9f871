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
    if (data.length > 0) {
      onMessage({ data: data.join("\n"), event: event || "message", id });
    }
    data = [];
    event = "";
  };

  const field = (text: string): void => {
    if (text === "") return dispatch();
    if (text.startsWith(":")) return; // a comment
    const colon = text.indexOf(":");
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (name) {
      case "data":
        data.push(value);
        break;
      case "event":
        event = value;
        break;
      case "id":
        if (!value.includes("\0")) id = value;
    }
  };

  return {
    feed(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let index = 0; index < text.length; index++) {
        const char = text.charCodeAt(index);
        if (char === 10 && afterCr && index === start) {
          // The LF of a CRLF whose CR ended the previous piece.
          afterCr = false;
          start = index + 1;
          continue;
        }
        afterCr = false;
        if (char === 10 || char === 13) {
          field(line + text.slice(start, index));
          line = "";
          start = index + 1;
          afterCr = char === 13;
        }
      }
      line += text.slice(start);
    },
  };
}
