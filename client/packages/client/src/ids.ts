/**
 * Event ids (`<ms>-<seq>`, Redis stream ids) and their order. Both parts may pass 2^53, so
 * they are compared as decimal text, never as JavaScript numbers.
 */

const ID = /^\d{1,20}-\d{1,20}$/;

/** Whether `text` is an event id `<ms>-<seq>`. */
export function isEventId(text: unknown): text is string {
  return typeof text === "string" && ID.test(text);
}

/**
 * An id as text that sorts as the id: both parts padded to 20 digits (an id's parts have
 * at most 20: u64).
 */
function sortKey(id: string): string {
  return id.replace(/\d+/g, (part) => part.padStart(20, "0"));
}

/** Negative, zero or positive as `a` comes before, is, or comes after `b`. */
export function compareIds(a: string, b: string): number {
  const x = sortKey(a);
  const y = sortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The id right after `id`: as an exclusive bound, it includes `id`. */
export function nextId(id: string): string {
  const [ms = "0", seq = "0"] = id.split("-");
  return `${ms}-${BigInt(seq) + 1n}`;
}

/** The id before which nothing was stored: a cursor for a channel that was empty. */
export const ORIGIN_ID = "0-0";
