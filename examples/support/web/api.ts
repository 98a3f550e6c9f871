// `fetch` for the examples' JSON routes: sends `body` as JSON, resolves to the JSON answer
// (`{}` when there is none, as for 202 without a body), and rejects with the server's
// `{ "error": "..." }` text when the status is not 2xx, so the page can show it as is.
export async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(json.error ?? `${method} ${path}: ${response.status}`);
  }
  return json;
}
