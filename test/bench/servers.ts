// Helper servers, each run in its own process by the bench (helper-processes.ts startHelper):
//   bun test/bench/servers.ts bare       — a bare Bun.serve answering "ok" (the intake baseline)
//   bun test/bench/servers.ts bare-json  — a bare Bun.serve that parses the JSON body and answers
//                                          a JSON like the service's (ceiling without a framework)
//   bun test/bench/servers.ts elysia     — the same in a minimal Elysia app, with the service's own
//                                          body schema (ceiling of the framework the spec names), and
//                                          GET /c/:campaign answering the click link's 302 (no write)
//   bun test/bench/servers.ts receiver   — a fast tracker answering 200 "OK" and counting requests
// Both listen on 127.0.0.1 with a free port and print {"port": N} as their first line.
// The receiver also answers GET /__stats (count, distinct events, first/last arrival in ms of its
// own performance clock) and POST /__reset.

import { Elysia } from "elysia";
import { EventBody } from "../../src/leads/model.ts";

const mode = process.argv[2];
if (mode !== "bare" && mode !== "bare-json" && mode !== "elysia" && mode !== "receiver") {
  process.stderr.write("usage: servers.ts bare|bare-json|elysia|receiver\n");
  process.exit(2);
}

/** The shape of POST /api/events' answer for a new lead. */
const ANSWER = {
  applied: true, reason: null,
  lead: { id: 1, campaign: "bench", subscriber: 1, click: "c1", username: "", chat: null, status: "wait", joined_at: null, created_at: "2026-12-01T00:00:00.000Z", updated_at: "2026-12-01T00:00:00.000Z" },
  events: [{ id: 1, lead: 1, status: "wait", prev_status: null, source: "api", reason: null, occurred_at: "2026-12-01T00:00:00.000Z", created_at: "2026-12-01T00:00:00.000Z" }],
  postbacks: [],
};

let count = 0;
let first = 0;
let last = 0;
let seen = new Set<number>();

function eventOf(url: string): number {
  const i = url.indexOf("event=");
  if (i < 0) return -1;
  let n = 0;
  for (let j = i + 6; j < url.length; j++) {
    const c = url.charCodeAt(j);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

const ceiling = mode === "elysia"
  ? new Elysia()
    .post("/api/events", ({ body }) => ({ ...ANSWER, lead: { ...ANSWER.lead, click: body.click ?? "" } }), { body: EventBody })
    .get("/c/:campaign", ({ params }) => new Response(null, {
      status: 302, headers: { location: `https://t.me/bench_bot?start=${params.campaign}-Xk3vQ9aLm2Tb`, "cache-control": "no-store", "referrer-policy": "no-referrer" },
    }))
    .listen({ hostname: "127.0.0.1", port: 0 }).server!
  : null;
const server = ceiling ?? (mode === "bare"
  ? Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") })
  : mode === "bare-json"
  ? Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { click?: string };
      return Response.json({ ...ANSWER, lead: { ...ANSWER.lead, click: body.click ?? "" } });
    },
  })
  : Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = req.url;
      const path = url.indexOf("/__");
      if (path >= 0 && path < 30) {
        if (url.includes("/__stats")) return Response.json({ count, distinct: seen.size, first, last });
        if (url.includes("/__reset")) {
          count = 0;
          first = 0;
          last = 0;
          seen = new Set();
          return new Response("reset");
        }
      }
      const now = performance.now();
      if (count === 0) first = now;
      last = now;
      count++;
      const ev = eventOf(url);
      if (ev >= 0) seen.add(ev);
      return new Response("OK");
    },
  }));

process.stdout.write(`${JSON.stringify({ port: server.port, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

export {};
