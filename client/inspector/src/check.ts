// The page's own check of an emit's data against the event's JSON Schema (draft 2020-12),
// before the server checks it again: the rules that failed, each with its JSON pointer.

import { Validator } from "@cfworker/json-schema";

export interface Problem {
  path: string;
  message: string;
}

/** The page's check of `data` against `schema` (JSON Schema 2020-12). */
export function check(schema: Record<string, unknown>, data: unknown): Problem[] {
  const result = new Validator(schema as never, "2020-12", false).validate(data);
  if (result.valid) return [];
  const problems = result.errors.map((error) => ({
    keyword: error.keyword,
    path: error.instanceLocation.replace(/^#/, ""),
    message: error.error,
  }));
  // The rules that failed at the leaves; the keywords that only combine them
  // (`properties`, `$ref`, ...) when nothing else is said (a `oneOf` no branch matched).
  const combining = ["properties", "allOf", "$ref", "anyOf", "oneOf", "items", "prefixItems", "additionalProperties"];
  const leaves = problems.filter((problem) => !combining.includes(problem.keyword));
  return (leaves.length > 0 ? leaves : problems.slice(-1)).map(({ path, message }) => ({ path, message }));
}

