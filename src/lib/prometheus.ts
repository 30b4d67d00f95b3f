import { readdirSync } from "node:fs";
import type { Histogram } from "./histogram.ts";

export type Labels = Readonly<Record<string, string>>;

const labelValue = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
const labelText = (labels: Labels) => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${labelValue(v)}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
};

/**
 * The Prometheus text exposition format, written in one place: each family with its HELP and
 * TYPE lines, label values escaped, histograms as cumulative buckets with sum and count.
 */
export class MetricsPage {
  private readonly lines: string[] = [];

  private family(name: string, type: "counter" | "gauge" | "histogram", help: string) {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  counter(name: string, help: string, samples: Iterable<readonly [Labels, number]>) {
    this.family(name, "counter", help);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${value}`);
    return this;
  }

  gauge(name: string, help: string, samples: Iterable<readonly [Labels, number]>) {
    this.family(name, "gauge", help);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${value}`);
    return this;
  }

  /** `scale` turns the histogram's unit into the metric's (e.g. 1/1000 for ms observed, seconds exposed). */
  histogram(name: string, help: string, h: Histogram, scale = 1) {
    this.family(name, "histogram", help);
    let cumulative = 0;
    h.bounds.forEach((bound, i) => {
      cumulative += h.counts[i]!;
      this.lines.push(`${name}_bucket{le="${bound * scale}"} ${cumulative}`);
    });
    this.lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum * scale}`, `${name}_count ${h.count}`);
    return this;
  }

  toString() {
    return `${this.lines.join("\n")}\n`;
  }
}

const startedAt = Date.now() - performance.now();

/** Open file descriptors of this process (Linux /proc), null where it cannot be read. */
function openFds(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

/**
 * The standard process metrics (the names Prometheus' own clients use): CPU time, resident memory,
 * the JS heap, open file descriptors and the start time. prom-client is not used: its default
 * metrics run on Bun, but its event-loop lag gauges read NaN and nonsense there
 * (perf_hooks.monitorEventLoopDelay is not implemented by Bun), and the handful kept here are a few lines.
 */
export function processMetrics(page: MetricsPage) {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  page.counter("process_cpu_seconds_total", "User and system CPU time of this process, seconds.", [[{}, (cpu.user + cpu.system) / 1e6]]);
  page.gauge("process_resident_memory_bytes", "Resident memory of this process.", [[{}, mem.rss]]);
  page.gauge("process_heap_bytes", "JavaScript heap in use.", [[{}, mem.heapUsed]]);
  const fds = openFds();
  if (fds !== null) page.gauge("process_open_fds", "Open file descriptors.", [[{}, fds]]);
  page.gauge("process_start_time_seconds", "Start time of this process, UNIX seconds.", [[{}, Math.floor(startedAt / 1000)]]);
}
