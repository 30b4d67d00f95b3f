import { Elysia, t } from "elysia";
import { Nullable, responses } from "../http/openapi.ts";
import { Int } from "../http/schema.ts";
import { AD_PLATFORMS } from "../adplatforms/index.ts";
import type { AdPlatform } from "../adplatforms/platform.ts";
import { PRESETS, fillPreset } from "./presets.ts";

/** The five URLs as they come out with sample params, macros still in place. */
function example(preset: (typeof PRESETS)[number]) {
  const params = Object.fromEntries(preset.params.filter((p) => p.required).map((p) => [p.name, p.name === "domain" ? "trk.example.com" : `YOUR_${p.name.toUpperCase()}`]));
  const filled = fillPreset(preset, params);
  return "templates" in filled ? filled.templates : null;
}

/** The URL a row of this platform stores, with sample params: its secret is always ***. */
function adExample(platform: AdPlatform) {
  const params = Object.fromEntries(platform.params.filter((p) => !p.secret).map((p) => [p.name, p.default ?? `YOUR_${p.name.toUpperCase()}`]));
  return platform.storedUrl({ params, events: platform.defaultEvents, validateOnly: false });
}

export const presetRoutes = () =>
  new Elysia({ detail: { tags: ["destinations"] } }).get("/api/presets", () => ({
    items: PRESETS.map((p) => ({
      name: p.name,
      tracker: p.tracker,
      params: p.params,
      verdict: p.verdict ?? null,
      notes: p.notes,
      templates: p.templates,
      example: example(p),
    })),
    ad_platforms: AD_PLATFORMS.map((p) => ({
      name: p.name,
      platform: p.platform,
      params: p.params.map(({ secret, ...param }) => ({ ...param, secret: secret === true })),
      default_events: p.defaultEvents,
      max_events: p.maxEvents,
      method: "POST",
      example: adExample(p),
      notes: p.notes,
    })),
  }), {
    detail: {
      summary: "Tracker presets (their params and the five templates) and ad-platform destinations",
      responses: responses({ schema: PresetList, example: presetListExample, description: "Every preset a destination can use" }, 401),
    },
  });

const FiveUrls = t.Object({ wait: t.String(), hold: t.String(), approve: t.String(), cancel: t.String(), trash: t.String() });
const PresetList = t.Object({
  items: t.Array(t.Object({
    name: t.String(), tracker: t.String(),
    params: t.Array(t.Object({ name: t.String(), required: t.Boolean(), default: t.Optional(t.String()), description: t.String() })),
    verdict: Nullable(t.String({ description: "how the answer is judged (keitaro, altercpa); null: any 2xx is delivered" })),
    notes: t.String(), templates: FiveUrls, example: Nullable(FiveUrls),
  })),
  ad_platforms: t.Array(t.Object({
    name: t.String(), platform: t.String(),
    params: t.Array(t.Object({
      name: t.String(), required: t.Boolean(), default: t.Optional(t.String()), description: t.String(),
      secret: t.Boolean({ description: "resolved at send time; stored and shown as ***" }),
    })),
    default_events: t.Record(t.String(), t.String(), { description: "event name per status when events does not say" }),
    max_events: Int({ description: "events one request may carry" }),
    method: t.Literal("POST"),
    example: t.String({ description: "the URL a postback row stores, with sample params" }),
    notes: t.String(),
  })),
});
const keitaro = "https://trk.example.com/YOUR_KEY/postback?subid={click}&status={status}&tid={lead}";
const presetListExample = {
  items: [{
    name: "keitaro", tracker: "Keitaro", params: [{ name: "domain", required: true, description: "tracker domain" }, { name: "key", required: true, description: "postback key" }],
    verdict: "keitaro", notes: "Statuses are translated by Keitaro.", templates: { wait: "{domain}/{key}/postback?subid={click}&status={status}&tid={lead}", hold: "…", approve: "…", cancel: "…", trash: "…" },
    example: { wait: keitaro, hold: keitaro, approve: keitaro, cancel: keitaro, trash: keitaro },
  }],
  ad_platforms: [{
    name: "meta-capi", platform: "Meta Conversions API",
    params: [{ name: "pixel_id", required: true, description: "the pixel (dataset) id", secret: false }, { name: "access_token", required: true, description: "the access token", secret: true }],
    default_events: { wait: "Lead", approve: "CompleteRegistration" }, max_events: 1000, method: "POST",
    example: "https://graph.facebook.com/v25.0/YOUR_PIXEL_ID/events?access_token=***", notes: "action_source website or chat.",
  }],
};
