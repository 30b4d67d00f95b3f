// The postback templates of the config: destinations (tracker presets and ad platforms) and the
// five event templates of the global and per-campaign postbacks, compiled with their macros.
import { STATUSES, type Status } from "../domain/status.ts";
import {
  POSTBACK_MACROS, compileText, emptyTemplates, loneMacroParams, renderRequest,
  type CompiledText, type EventTemplates, type JsonTemplate, type MacroValues, type Template,
} from "../domain/templates.ts";
import { AD_PLATFORMS, adPlatformByName } from "../adplatforms/index.ts";
import { readAdDestination } from "../adplatforms/config.ts";
import { PRESETS, fillPreset, presetByName, verdictName } from "../presets/presets.ts";
import { formatPath, type Checker, type ConfigPath } from "./checker.ts";
import type { DestinationConfig } from "./model.ts";
import type { ConfigFile } from "./schema.ts";

/** Sample macro values: a template is checked by rendering it once. */
export const SAMPLE_VALUES: MacroValues = Object.fromEntries(POSTBACK_MACROS.map((m) => [m, "x"])) as MacroValues;

/** Tracker presets give a URL per status; ad platforms a built template per status that has an event. */
export type Destinations = Map<string, { config: DestinationConfig; templates?: Record<Status, string>; built?: Partial<Record<Status, Template>>; verdict?: string }>;

export function readDestinations(destinations: ConfigFile["destinations"], c: Checker): Destinations {
  const out: Destinations = new Map();
  for (const [name, d] of Object.entries(destinations)) {
    if (d?.preset === undefined) continue; // refused or missing: reported by the reader
    const p = ["destinations", name];
    const ad = adPlatformByName(d.preset);
    if (ad) {
      const read = readAdDestination(name, d, ad, c);
      if (read) out.set(name, read);
      continue;
    }
    const preset = presetByName(d.preset);
    if (!preset) {
      c.fail([...p, "preset"], `unknown preset "${d.preset}" (known: ${[...PRESETS, ...AD_PLATFORMS].map((x) => x.name).join(", ")})`);
      continue;
    }
    const { preset: _, verdict, ...params } = d as typeof d & Record<string, string>;
    const filled = fillPreset(preset, params);
    if ("errors" in filled) {
      filled.errors.forEach((e) => c.fail(p, e));
      continue;
    }
    out.set(name, { config: { name, preset: preset.name, params, verdict }, templates: filled.templates, verdict: verdictName(verdict, preset) ?? undefined });
  }
  return out;
}

type EventTemplatesFile = ConfigFile["postbacks"];
type TemplateFile = Exclude<EventTemplatesFile[Status], unknown[] | undefined>;

/**
 * The five event templates. Each may be a URL, a request object, `{destination: NAME}`, or a list
 * of them; `destination: NAME | [NAMES]` beside them gives every status not listed its preset URL.
 */
export function readEventTemplates(o: EventTemplatesFile, p: ConfigPath, c: Checker, destinations: Destinations): EventTemplates {
  const out = emptyTemplates();
  const names = o.destination === undefined ? [] : Array.isArray(o.destination) ? o.destination : [o.destination];
  const defaultPath = (i: number): ConfigPath => (Array.isArray(o.destination) ? [...p, "destination", i] : [...p, "destination"]);
  // Each default destination is checked once here, not once per status.
  const defaults = names.flatMap((name, i) => {
    if (name === undefined) return [];
    if (destinations.has(name)) return [{ name, path: defaultPath(i) }];
    if (!reportedDestination(name, c)) c.fail(defaultPath(i), `no destination named ${JSON.stringify(name)} under destinations`);
    return [];
  });
  for (const status of STATUSES) {
    if (!Object.hasOwn(o, status)) {
      out[status] = defaults.flatMap((d) => destinationTemplate(d.name, d.path, c, destinations, status, false) ?? []);
      continue;
    }
    const entry = o[status];
    const entries = Array.isArray(entry) ? entry.map((e, i) => [e, [...p, status, i]] as const) : [[entry, [...p, status]] as const];
    out[status] = entries.flatMap(([e, path]) => {
      const t = readTemplate(e, path, c, destinations, status);
      return t ? [t] : [];
    });
  }
  return out;
}

/** A destination that was refused has its own issue; templates that name it add none. */
const reportedDestination = (name: string, c: Checker) => c.issues.some((i) => i.path.startsWith(`destinations.${name}`));

/** `explicit`: the status names the destination itself, so an ad destination without its event is an error. */
function destinationTemplate(name: string, path: ConfigPath, c: Checker, destinations: Destinations, status: Status, explicit = true): Template | undefined {
  const d = destinations.get(name);
  if (!d) return reportedDestination(name, c) ? undefined : c.fail(path, `no destination named ${JSON.stringify(name)} under destinations`);
  if (d.built) {
    const template = d.built[status];
    if (!template && explicit) c.fail(path, `destination ${JSON.stringify(name)} sends no event for ${status} (name one under destinations.${name}.events.${status})`);
    return template;
  }
  if (d.templates![status] === "") return undefined; // the preset sends nothing for this status (prosper202: approve only)
  const url = compileAt(d.templates![status], path, c);
  return url && {
    label: `destinations.${d.config.name}.${status}`, method: "GET", url, destination: d.config.name,
    omitWhenEmpty: loneMacroParams(url.source), ...(d.verdict ? { verdict: d.verdict } : {}),
  };
}

function compileAt(source: string, path: ConfigPath, c: Checker): CompiledText | undefined {
  try {
    return compileText(source);
  } catch (err) {
    return c.fail(path, (err as Error).message);
  }
}

function readTemplate(value: TemplateFile | undefined, path: ConfigPath, c: Checker, destinations: Destinations, status: Status): Template | undefined {
  if (value === undefined || value === null || value === "") return undefined; // empty = no postback
  let template: Template | undefined;
  if (typeof value === "string") {
    const url = compileAt(value, path, c);
    template = url && { label: formatPath(path), method: "GET", url };
  } else if ("destination" in value) {
    template = value.destination === undefined ? undefined : destinationTemplate(value.destination, [...path, "destination"], c, destinations, status);
  } else {
    template = readRequest(value, path, c);
  }
  if (!template) return undefined;
  const sample = renderRequest(template, SAMPLE_VALUES).url;
  if (!/^https?:\/\//i.test(sample) || !URL.canParse(sample)) {
    return c.fail(path, `"${template.url.source}" is not an http(s) URL`);
  }
  return template;
}

function readRequest(o: Extract<TemplateFile, { url: string }>, path: ConfigPath, c: Checker): Template | undefined {
  const url = o.url === undefined ? undefined : compileAt(o.url, [...path, "url"], c);
  const method = o.method ?? (o.json !== undefined || o.form !== undefined ? "POST" : "GET");
  if (o.json !== undefined && o.form !== undefined) c.fail(path, "has both json and form; choose one body type");
  let body: Template["body"];
  if (o.json !== undefined) {
    const value = compileJson(o.json, [...path, "json"], c);
    body = value === undefined ? undefined : { type: "json", value };
  } else if (o.form !== undefined) {
    body = {
      type: "form",
      fields: Object.entries(o.form).flatMap(([k, v]) => {
        const compiled = compileAt(String(v ?? ""), [...path, "form", k], c);
        return compiled ? [[k, compiled] as [string, CompiledText]] : [];
      }),
    };
  }
  if (body && method === "GET") c.fail([...path, "method"], "a body needs method POST");
  const verdict = verdictName(o.verdict);
  return url ? { label: formatPath(path), method, url, ...(body ? { body } : {}), ...(verdict ? { verdict } : {}) } : undefined;
}

function compileJson(value: unknown, path: ConfigPath, c: Checker): JsonTemplate | undefined {
  if (typeof value === "string") return compileAt(value, path, c);
  if (typeof value === "number" || typeof value === "boolean" || value === null) return value;
  if (Array.isArray(value)) return value.map((v, i) => compileJson(v, [...path, i], c) ?? null);
  if (typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compileJson(v, [...path, k], c) ?? null]));
  }
  return c.fail(path, "is not a JSON value");
}
