import { Elysia, t } from "elysia";
import { Nullable, responses } from "../http/openapi.ts";
import { PRESETS, fillPreset } from "./presets.ts";

/** The five URLs as they come out with sample params, macros still in place. */
function example(preset: (typeof PRESETS)[number]) {
  const params = Object.fromEntries(preset.params.filter((p) => p.required).map((p) => [p.name, p.name === "domain" ? "trk.example.com" : `YOUR_${p.name.toUpperCase()}`]));
  const filled = fillPreset(preset, params);
  return "templates" in filled ? filled.templates : null;
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
  }), {
    detail: {
      summary: "Tracker presets: their params and the five templates",
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
});
const keitaro = "https://trk.example.com/YOUR_KEY/postback?subid={click}&status={status}&tid={lead}";
const presetListExample = {
  items: [{
    name: "keitaro", tracker: "Keitaro", params: [{ name: "domain", required: true, description: "tracker domain" }, { name: "key", required: true, description: "postback key" }],
    verdict: "keitaro", notes: "Statuses are translated by Keitaro.", templates: { wait: "{domain}/{key}/postback?subid={click}&status={status}&tid={lead}", hold: "…", approve: "…", cancel: "…", trash: "…" },
    example: { wait: keitaro, hold: keitaro, approve: keitaro, cancel: keitaro, trash: keitaro },
  }],
};
