/**
 * Event ids (`<ms>-<seq>`, Redis stream ids) and their order. Both parts may pass 2^53, so
 * they are compared as decimal text, never as JavaScript numbers.
 */

const ID = /^(\d{1,20})-(\d{1,20})$/;

/** Whether `text` is an event id `<ms>-<seq>`. */
export function isEventId(text: unknown): text is string {
  return typeof text === "string" && ID.test(text);
}

/** Compares two decimal numbers without leading zeros beyond `0`. */
function compareDecimal(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, "");
  const y = b.replace(/^0+(?=\d)/, "");
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Negative, zero or positive as `a` comes before, is, or comes after `b`. */
export function compareIds(a: string, b: string): number {
  const [msA = "0", seqA = "0"] = a.split("-");
  const [msB = "0", seqB = "0"] = b.split("-");
  return compareDecimal(msA, msB) || compareDecimal(seqA, seqB);
}

/** The id right after `id`: as an exclusive bound, it includes `id`. */
export function nextId(id: string): string {
  const [ms = "0", seq = "0"] = id.split("-");
  return `${ms}-${(BigInt(seq) + 1n).toString()}`;
}

/** The id before which nothing was stored: a cursor for a channel that was empty. */
export const ORIGIN_ID = "0-0";
