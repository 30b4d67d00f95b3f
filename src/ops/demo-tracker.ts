import { Elysia, t } from "elysia";
import { asResponses, requestBody } from "../http/openapi.ts";
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
  const answer = asResponses({ 200: { description: "Accepted, as Keitaro answers", content: { "text/plain": { schema: t.String(), example: "Success" } } } });
  const detail = { summary: "Demo tracker: receives a postback", security: [], responses: answer };
  return new Elysia({ detail: { tags: ["demo"] } })
    .get("/demo/postback", receive, { detail })
    .post("/demo/postback", receive, {
      parse: "none",
      detail: { ...detail, requestBody: requestBody("Any body (a POST template's JSON or form); kept as text", { "*/*": { schema: { type: "string" }, example: '{"click":"abc123"}' } }) },
    })
    .get("/demo/received", () => ({ items: received }), {
      detail: {
        summary: "Demo tracker: the last 100 postbacks it received", security: [],
        responses: asResponses({
          200: {
            description: "Newest first",
            content: {
              "application/json": {
                schema: t.Object({ items: t.Array(t.Object({ at: t.String(), method: t.String(), url: t.String(), query: t.Record(t.String(), t.String()), body: t.String() })) }),
                example: { items: [{ at: "2024-05-01T10:00:00.000Z", method: "GET", url: "/demo/postback?subid=abc123&status=lead", query: { subid: "abc123", status: "lead" }, body: "" }] },
              },
            },
          },
        }),
      },
    });
}
