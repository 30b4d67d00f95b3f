// Calling a running test service's HTTP API with the test key, and the calls many tests make
// (list postbacks, wait for the outbox, apply an event). Works for the in-process service and
// for a service process alike.
import { expect } from "bun:test";
import { eventually } from "../eventually.ts";
import { API_KEY } from "./config.ts";

/** An answer of the API: status, headers and the body parsed as JSON (the text when it is not JSON). */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** Anything with the test key's API: a TestService (in-process) or a ServiceProcess. */
export interface ApiClient {
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiAnswer>;
}

/** One API call with the test key; a body is sent as JSON. `timeoutMs` aborts a call that hangs. */
export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs?: number,
): Promise<ApiAnswer> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Every postback GET /api/postbacks lists (all pages, newest first); `query` is appended, e.g. `&state=failed`. */
export async function listPostbacks(svc: ApiClient, query = ""): Promise<any[]> {
  const items: any[] = [];
  let before: number | null = null;
  do {
    const path: string = `/api/postbacks?limit=500${query}${before ? `&before=${before}` : ""}`;
    const res = await svc.api("GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.items);
    before = res.body.next_before;
  } while (before);
  return items;
}

/** Resolves once no postback is pending. */
export const outboxSettled = (svc: ApiClient) =>
  eventually(async () => (await listPostbacks(svc, "&state=pending")).length === 0, 5000, "outbox settled");

/** One event through POST /api/events (campaign c1 unless given) that must apply; the lead and event ids the macros will carry. */
export async function applyEvent(svc: ApiClient, body: Record<string, unknown>) {
  const res = await svc.api("POST", "/api/events", { campaign: "c1", ...body });
  expect(res.status).toBe(200);
  expect(res.body.applied).toBe(true);
  return { lead: res.body.lead.id as number, event: res.body.events[0].id as number, postbacks: res.body.postbacks as any[] };
}
