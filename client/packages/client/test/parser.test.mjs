// The SSE parser fed the same stream cut at every place: split anywhere (inside a CRLF,
// inside a UTF-8 character), LF, CR or CRLF line ends, comments, multi-line data, `id:` and
// `event:` lines (ignored). Every split must yield exactly the messages of the whole stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createParser } from "../dist/utils.js";

const encoder = new TextEncoder();

function parseChunks(chunks) {
  const messages = [];
  const parser = createParser((message) => messages.push(message));
  for (const chunk of chunks) parser.feed(chunk);
  return messages;
}

/** A seeded generator, so a failure can be replayed. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const STREAM_LINES = [
  "id: 1796589220664",
  "",
  ": a comment, ignored",
  'data: {"type":"connected","channel":"room-1","cursor":"1-0"}',
  "",
  "data: first line",
  "data: second line é 日本 😀",
  "",
  "event: custom (ignored: the protocol names events in the data)",
  "data:no space after the colon",
  "",
  "data",
  "",
  ": keepalive",
  'data: {"id":"2-0","data":"naïve ✓","event":"chat.message","channel":"room-1"}',
  "",
];

const EXPECTED = [
  { data: '{"type":"connected","channel":"room-1","cursor":"1-0"}' },
  { data: "first line\nsecond line é 日本 😀" },
  { data: "no space after the colon" },
  { data: "" },
  { data: '{"id":"2-0","data":"naïve ✓","event":"chat.message","channel":"room-1"}' },
];

for (const [name, newline] of [
  ["LF", "\n"],
  ["CRLF", "\r\n"],
  ["CR", "\r"],
]) {
  const bytes = encoder.encode(STREAM_LINES.map((line) => line + newline).join(""));

  test(`${name}: the whole stream in one chunk`, () => {
    assert.deepEqual(parseChunks([bytes]), EXPECTED);
  });

  test(`${name}: split once at every byte, also inside CRLF and UTF-8 characters`, () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual(parseChunks([bytes.slice(0, cut), bytes.slice(cut)]), EXPECTED, `cut at byte ${cut}`);
    }
  });

  test(`${name}: one byte at a time`, () => {
    assert.deepEqual(parseChunks(Array.from(bytes, (byte) => Uint8Array.of(byte))), EXPECTED);
  });

  test(`${name}: 500 random splits into many pieces`, () => {
    const next = random(name.length * 7919);
    for (let run = 0; run < 500; run++) {
      const chunks = [];
      let start = 0;
      while (start < bytes.length) {
        const size = 1 + Math.floor(next() * 12);
        chunks.push(bytes.slice(start, start + size));
        start += size;
      }
      assert.deepEqual(parseChunks(chunks), EXPECTED, `run ${run}`);
    }
  });
}

test("mixed line ends in one stream, and a CR at the end of a chunk before an LF", () => {
  const messages = parseChunks([encoder.encode("data: a\r"), encoder.encode("\ndata: b\n\r"), encoder.encode("\n")]);
  assert.deepEqual(messages, [{ data: "a\nb" }]);
});

test("an event without a blank line after it is not dispatched", () => {
  assert.deepEqual(parseChunks([encoder.encode("data: unfinished\n")]), []);
});
