import { Elysia } from "elysia";
import type { Logger } from "../lib/logger.ts";

const KEEP = 100;

/**
 * A stand-in tracker for the example config, so a newcomer sees postbacks arrive without a real
 * tracker or the internet. Answers like Keitaro ("Success") and keeps the last 100 requests.
 */
export function demoTrackerRoutes(log: Logger) {
  const received: { at: string; method: string; url: string; query: Record<string, string>; body: string }[] = [];
  const receive = async ({ request }: { request: Request }) => {
    const q = request.url.indexOf("?");
    const search = q === -1 ? "" : request.url.slice(q);
    const entry = { at: new Date().toISOString(), method: request.method, url: `/demo/postback${search}`, query: Object.fromEntries(new URLSearchParams(search)), body: await request.text() };
    received.unshift(entry);
    received.length = Math.min(received.length, KEEP);
    log.info({ demo_tracker: entry.query }, "demo tracker received a postback");
    return "Success";
  };
  return new Elysia({ detail: { tags: ["demo"] } })
    .get("/demo/postback", receive, { detail: { summary: "Demo tracker: receives a postback" } })
    .post("/demo/postback", receive, { parse: "none", detail: { summary: "Demo tracker: receives a postback" } })
    .get("/demo/received", () => ({ items: received }), { detail: { summary: "Demo tracker: the last 100 postbacks it received" } });
}
