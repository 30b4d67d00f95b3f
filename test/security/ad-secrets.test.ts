// An ad platform's secret on a redirect: a header token (TikTok's Access-Token) is not sent on to
// another origin, and a secret the platform echoes back (in a Location, in its answer) is masked in
// the attempt log like the stored URL.
import { describe, expect, test } from "bun:test";
import { cleanupAfterEach } from "../helpers/cleanup.ts";
import { eventually } from "../helpers/eventually.ts";
import { RecordingTracker } from "../helpers/fake-trackers/index.ts";
import { applyEvent, listPostbacks } from "../helpers/service/api-client.ts";
import { startTestService } from "../helpers/service/in-process.ts";

const cleanup = cleanupAfterEach();
const TIKTOK_TOKEN = "tt-secret-for-redirects-9f8e7d";
const META_TOKEN = "EAAB-echoed-token-6b5a4c3d";

describe("secrets and redirects", () => {
  test("TikTok's Access-Token goes to its own origin only; a redirect elsewhere gets no token", async () => {
    const elsewhere = await cleanup.closing(RecordingTracker.start(() => ({ status: 200, body: JSON.stringify({ code: 0, message: "OK", request_id: "1", data: {} }) })));
    const platform = await cleanup.closing(RecordingTracker.start((req) => (req.path.startsWith("/open_api/")
      ? { status: 307, body: "", headers: { location: `${elsewhere.base}/moved/event/track/` } }
      : { status: 404, body: "" })));
    const svc = await startTestService({
      destinations: { tt: { preset: "tiktok-events", pixel_code: "C1", access_token: TIKTOK_TOKEN, page_url: "https://t.me/x", base_url: platform.base } },
      campaigns: [{ code: "c1", postbacks: { destination: "tt" } }],
    });
    cleanup.push(() => svc.stop());
    await applyEvent(svc, { subscriber: 1, status: "wait" });
    await eventually(async () => (await listPostbacks(svc)).every((p) => p.state === "delivered"), 5000, "delivered through the redirect");
    expect(platform.received.map((r) => r.headers["access-token"])).toEqual([TIKTOK_TOKEN]);
    expect(elsewhere.received.map((r) => [r.method, r.path, r.headers["access-token"]])).toEqual([["POST", "/moved/event/track/", undefined]]);
  });

  test("a token echoed back in a Location and in an answer is masked in the attempt log", async () => {
    const elsewhere = await cleanup.closing(RecordingTracker.start(() => ({
      status: 400, body: JSON.stringify({ error: { message: `Invalid OAuth access token - Cannot parse access token: ${META_TOKEN}`, type: "OAuthException", code: 190 } }),
    })));
    const platform = await cleanup.closing(RecordingTracker.start((req) => ({ status: 302, body: "", headers: { location: `${elsewhere.base}/v25.0/1/events?access_token=${req.query.access_token}` } })));
    const svc = await startTestService({
      destinations: { fb: { preset: "meta-capi", pixel_id: "1", access_token: META_TOKEN, base_url: platform.base } },
      campaigns: [{ code: "c1", postbacks: { destination: "fb" } }],
    });
    cleanup.push(() => svc.stop());
    await applyEvent(svc, { subscriber: 1, status: "wait" });
    await eventually(async () => (await listPostbacks(svc)).every((p) => p.state === "rejected"), 5000, "refused");
    expect(elsewhere.received[0]!.query.access_token).toBe(META_TOKEN); // the platform really echoed it
    const [row] = await listPostbacks(svc);
    const detail = await svc.api("GET", `/api/postbacks/${row.id}`);
    const text = JSON.stringify(detail.body);
    expect(text).not.toContain(META_TOKEN);
    // 302 after a POST continues as a GET, as browsers do; Meta's words with the token masked.
    expect(detail.body.attempts.map((a: any) => [a.url, a.error])).toEqual([
      [`${elsewhere.base}/v25.0/1/events?access_token=***`, "platform refused: meta code 190: Invalid OAuth access token - Cannot parse access token: ***"],
    ]);
    expect(detail.body.attempts[0].response_head).toContain("Cannot parse access token: ***");
    expect(svc.logs.join("")).not.toContain(META_TOKEN);
  });
});
