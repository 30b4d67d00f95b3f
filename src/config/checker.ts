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

/** Collects every problem found in a config, each with its path and YAML line, instead of stopping at the first. */
export class Checker {
  readonly issues: ConfigIssue[] = [];

  constructor(private readonly lineOf: (path: ConfigPath) => number | undefined = () => undefined) {}

  fail(path: ConfigPath, message: string): undefined {
    this.issues.push({ path: formatPath(path), line: this.lineOf(path), message });
    return undefined;
  }

  /** The issues in the order of the file: by line, and within a line in the order they were found (sort is stable). */
  inFileOrder(): ConfigIssue[] {
    return [...this.issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  }
}
