import { Elysia } from "elysia";
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
  }), { detail: { summary: "Tracker presets: their params and the five templates" } });
