import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Pair, type YAMLMap } from "yaml";
import { Checker, formatIssue, type ConfigIssue, type ConfigPath } from "./checker.ts";
import type { Config } from "./model.ts";
import { buildConfig } from "./validate.ts";

export class ConfigError extends Error {
  constructor(readonly source: string | null, readonly issues: ConfigIssue[]) {
    super(`invalid config${source ? ` ${source}` : ""}:\n${issues.map((i) => `  - ${formatIssue(i)}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** SPEC §7: --config, else TGCPA_CONFIG, else config/tgcpa.yaml, else the shipped example. */
export function defaultConfigPath(env: Record<string, string | undefined>): string {
  if (env.TGCPA_CONFIG) return env.TGCPA_CONFIG;
  return existsSync("config/tgcpa.yaml") ? "config/tgcpa.yaml" : "config/example.yaml";
}

/**
 * A config is a few KB; a file past this is not one (a log, a dump, a device) and is refused before
 * it is read whole or parsed: parsing a 50 MB file blocked the server for seconds and took GBs.
 */
export const MAX_CONFIG_BYTES = 5 * 1024 * 1024;

/** Reads, substitutes ${ENV}, validates and freezes a config file; throws ConfigError listing every problem. */
export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): Config {
  const source = resolve(path);
  let text: string;
  try {
    text = readAtMost(source, MAX_CONFIG_BYTES);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(source, [{ path: "", message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseConfig(text, env, source);
}

/** The file's text, or a ConfigError once it passes `limit` bytes (also for a pipe or a device, whose size is not known beforehand). */
function readAtMost(source: string, limit: number): string {
  const tooLarge = (what: string) => new ConfigError(source, [{
    path: "", message: `the file is ${what}; a config may be at most ${limit / 1024 / 1024} MB (is this the right file?)`,
  }]);
  const fd = openSync(source, "r");
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size > limit) throw tooLarge(`${stat.size} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      size += n;
      if (size > limit) throw tooLarge(`larger than ${limit} bytes`);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, size).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export function parseConfig(text: string, env: Record<string, string | undefined>, source: string | null = null): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(source, doc.errors.map((e) => {
      const at = lines.linePos(e.pos[0]);
      return { path: "", line: at.line, message: `YAML: ${e.message.split("\n")[0]} (column ${at.col})` };
    }));
  }
  // Each mapping's keys are indexed once: a file of thousands of keys, each with an issue, stays
  // linear (a search per issue took 50 s for 50,000 unknown keys, blocking the server on reload).
  const keyIndex = new WeakMap<YAMLMap, Map<string, Pair>>();
  const pairAt = (map: YAMLMap, key: string | number) => {
    let pairs = keyIndex.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const item of map.items) if (isScalar(item.key) && !pairs.has(String(item.key.value))) pairs.set(String(item.key.value), item);
      keyIndex.set(map, pairs);
    }
    return pairs.get(String(key));
  };
  const nodeAt = (path: ConfigPath) => path.reduce<unknown>(
    (node, part) => (isMap(node) ? pairAt(node, part)?.value : isSeq(node) && typeof part === "number" ? node.items[part] : undefined),
    doc.contents,
  );
  // The line of the key itself (not of its value, which may start on the next line).
  const lineOf = (path: ConfigPath) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const parent = nodeAt(path.slice(0, Math.max(0, depth - 1)));
      if (depth > 0 && isMap(parent)) {
        const pair = pairAt(parent, path[depth - 1]!);
        if (pair && isNode(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
      }
      const node = nodeAt(path.slice(0, depth));
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const checker = new Checker(lineOf);
  let parsed: unknown;
  try {
    parsed = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Unresolved aliases and alias bombs surface here, not in doc.errors.
    const alias = /alias/i.test((err as Error).message) ? [...text.matchAll(/\*[A-Za-z0-9_-]+/g)][0] : undefined;
    throw new ConfigError(source, [{ path: "", line: alias ? lines.linePos(alias.index).line : undefined, message: `YAML: ${(err as Error).message}` }]);
  }
  const raw = substituteEnv(parsed, [], env, checker);
  const config = buildConfig(raw, checker, source);
  if (!config) throw new ConfigError(source, checker.inFileOrder());
  return deepFreeze(config);
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} inside string values (never in keys, never in the raw text). */
function substituteEnv(value: unknown, path: ConfigPath, env: Record<string, string | undefined>, c: Checker): unknown {
  if (typeof value === "string") {
    if (!value.includes("${")) return value;
    // Stays a string: read.ts takes "8080" for a port, and a digits-only secret keeps its zeros.
    const out = value.replace(ENV_REF, (whole, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      c.fail(path, `environment variable ${name} is not set`);
      return whole;
    });
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, [...path, i], env, c));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, [...path, k], env, c)]));
  }
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
