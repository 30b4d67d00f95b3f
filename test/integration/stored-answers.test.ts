// No HTML answer body is stored anywhere, and no stored answer keeps a token-shaped value
// (src/domain/stored-answer.ts): the Keitaro-compatible tracker's login page (a wrong key: 200 with
// its CSRF token) and a tracker's HTML 404 page, fragment and text answers with tokens in them,
// against the real dispatcher. The API's attempt log and every row of the database file are read.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { FakeKeitaroCompatible, RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks, outboxSettled } from "../helpers/service/api-client.ts";
import { startTestService, type TestService } from "../helpers/service/in-process.ts";
import { storedText } from "../helpers/db-inspect.ts";

const cleanup = cleanupAfterEach();
const TOKEN = "9c1f0e7a3b5d2c4e6f8a0b1c2d3e4f5a";
const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsZWFkIn0.dG9rZW4tc2lnbmF0dXJl";

/** Every value of every row of every table in the database (either engine), as one text. */
const databaseText = (svc: TestService): Promise<string> => storedText(`${svc.dir}/tgcpa.db`);

const ANSWERS: Record<string, { status: number; body: string; type: string }> = {
  "/html404": { status: 404, body: `<!doctype html><html><head><meta name="csrf-token" content="${TOKEN}"></head><body>Not found</body></html>`, type: "text/html" },
  "/fragment": { status: 200, body: `<head><meta name="csrf-token" content="${TOKEN}"></head>welcome`, type: "text/html" },
  "/text401": { status: 401, body: `Unauthorized: session=${TOKEN}; retry with a valid key`, type: "text/plain" },
  "/json": { status: 200, body: JSON.stringify({ status: "ok", token: TOKEN, jwt: JWT }), type: "application/json" },
};

describe("stored answers", () => {
  test("no HTML page and no token in the attempt log, the reasons, or any row of the database", async () => {
    const kc = await cleanup.closing(FakeKeitaroCompatible.start({ key: "3f9a1c", clicks: ["c-1"] }));
    const tracker = await cleanup.closing(RecordingTracker.start((req) => {
      const a = ANSWERS[req.path]!;
      return { status: a.status, body: a.body, headers: { "content-type": a.type } };
    }));
    const svc = await startTestService({
      destinations: { wrong: { preset: "keitaro", domain: kc.base, key: "0000" } },
      postbacks: { wait: [{ destination: "wrong" }, ...Object.keys(ANSWERS).map((p) => `${tracker.base}${p}?c={click}`)] },
      campaigns: [{ code: "c1" }],
    });
    cleanup.push(() => svc.stop());
    await applyEvent(svc, { campaign: "c1", subscriber: 1, status: "wait", click: "c-1" });
    await kc.waitForCount(1);
    await tracker.waitForCount(Object.keys(ANSWERS).length);
    await outboxSettled(svc);

    const rows = await listPostbacks(svc);
    const heads: Record<string, string | null> = {};
    for (const row of rows) {
      const detail = (await svc.api("GET", `/api/postbacks/${row.id}`)).body;
      const path = new URL(detail.postback?.url ?? row.url).pathname;
      heads[path] = detail.attempts[0].response_head;
    }
    expect(heads).toEqual({
      "/0000/postback": "HTTP 200: an HTML page, not stored (it may hold a session or CSRF token)",
      "/html404": "HTTP 404: an HTML page, not stored (it may hold a session or CSRF token)",
      "/fragment": "HTTP 200: an HTML page, not stored (it may hold a session or CSRF token)",
      "/text401": "Unauthorized: session=***; retry with a valid key",
      "/json": JSON.stringify({ status: "ok", token: "***", jwt: "***" }),
    });
    const stored = (await databaseText(svc));
    for (const secret of [TOKEN, kc.csrfToken, JWT, "<html", "<head", "<meta"]) expect({ secret, stored: stored.includes(secret) }).toEqual({ secret, stored: false });
    expect(JSON.stringify(await svc.api("GET", "/api/postbacks"))).not.toContain(TOKEN);
  });
});
