import { parseDuration } from "../lib/duration.ts";

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  /** e.g. `campaigns[2].postbacks.approve` */
  path: string;
  line?: number;
  message: string;
}

export const formatPath = (path: ConfigPath) =>
  path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${part}` : part), "");

export const formatIssue = (issue: ConfigIssue) =>
  `${issue.path || "(root)"}${issue.line ? ` (line ${issue.line})` : ""}: ${issue.message}`;

type Obj = Record<string, unknown>;

/** Reads an untrusted YAML tree, collecting every problem with its path instead of stopping at the first. */
export class Checker {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly lineOf: (path: ConfigPath) => number | undefined = () => undefined) {}

  fail(path: ConfigPath, message: string): undefined {
    this.issues.push({ path: formatPath(path), line: this.lineOf(path), message });
    return undefined;
  }

  /** A mapping whose keys must all be in `known`; missing or null gives {} so defaults apply. */
  object(value: unknown, path: ConfigPath, known: readonly string[]): Obj | undefined {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) return this.fail(path, "must be a mapping");
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) this.fail([...path, key], `unknown key (expected one of: ${known.join(", ")})`);
    }
    return value as Obj;
  }

  string(value: unknown, path: ConfigPath, fallback?: string): string | undefined {
    if (value === undefined || value === null) return fallback ?? this.fail(path, "is required");
    if (typeof value === "number" || typeof value === "bigint") return String(value);
    if (typeof value !== "string") return this.fail(path, "must be a string");
    return value;
  }

  int(value: unknown, path: ConfigPath, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (value === undefined || value === null) return fallback ?? this.fail(path, "is required");
    if (typeof value === "string" && /^-?\d+$/.test(value.trim())) value = Number(value); // from ${ENV}
    if (typeof value !== "number" || !Number.isSafeInteger(value)) return this.fail(path, "must be a whole number");
    if (value < min || value > max) return this.fail(path, `must be between ${min} and ${max}`);
    return value;
  }

  number(value: unknown, path: ConfigPath, fallback: number, min: number, max: number): number | undefined {
    if (value === undefined || value === null) return fallback;
    if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) value = Number(value); // from ${ENV}
    if (typeof value !== "number" || !Number.isFinite(value)) return this.fail(path, "must be a number");
    if (value < min || value > max) return this.fail(path, `must be between ${min} and ${max}`);
    return value;
  }

  bool(value: unknown, path: ConfigPath, fallback: boolean): boolean | undefined {
    if (value === undefined || value === null) return fallback;
    if (value === "true" || value === "false") return value === "true"; // from ${ENV}
    if (typeof value !== "boolean") return this.fail(path, "must be true or false");
    return value;
  }

  /** Numbers are taken in `numberUnit`; strings like `90s`, `5m`, `30d`. */
  duration(value: unknown, path: ConfigPath, fallbackMs: number, numberUnit: "s" | "ms" = "s"): number | undefined {
    if (value === undefined || value === null) return fallbackMs;
    const ms = parseDuration(value, numberUnit);
    if (ms === undefined) return this.fail(path, `must be a duration such as 90s, 5m, 2h, 30d (a plain number is ${numberUnit === "s" ? "seconds" : "milliseconds"})`);
    return ms;
  }

  oneOf<T extends string>(value: unknown, path: ConfigPath, options: readonly T[], fallback: T): T | undefined {
    if (value === undefined || value === null) return fallback;
    const text = typeof value === "string" ? value : "";
    const hit = options.find((o) => o.toLowerCase() === text.toLowerCase());
    return hit ?? this.fail(path, `must be one of: ${options.join(", ")}`);
  }

  list(value: unknown, path: ConfigPath): unknown[] | undefined {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) return this.fail(path, "must be a list");
    return value;
  }

  strings(value: unknown, path: ConfigPath): string[] {
    return (this.list(value, path) ?? []).flatMap((item, i) => {
      const s = this.string(item, [...path, i]);
      if (s === "") this.fail([...path, i], "must not be empty");
      return s ? [s] : [];
    });
  }
}
