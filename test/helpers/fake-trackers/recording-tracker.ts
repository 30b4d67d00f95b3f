// The generic recording tracker: an HTTP server on 127.0.0.1 that records every request and
// answers as the test tells it (any status and body, a delay, a hang, a dropped connection). The
// contract trackers (keitaro.ts, altercpa.ts, …) are built on it and answer as the real ones do.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  method: string;
  /** path + query exactly as sent */
  url: string;
  path: string;
  query: Record<string, string>;
  body: string;
  headers: IncomingMessage["headers"];
  at: number;
  /** Serial number of the TCP connection it came on (1, 2, …, in the order connections were accepted). */
  connection: number;
  /** When the answer was written (epoch ms); unset while it is pending, for hangs and drops. */
  answeredAt?: number;
  /** When the connection closed before an answer was written (client gone, "close" behaviour). */
  closedAt?: number;
}

/** What the tracker does with one request. */
export type Behaviour =
  | { status: number; body?: string; headers?: Record<string, string> }
  | "hang" // never answers
  | "close"; // drops the connection without an answer

export type Responder = (req: Received, index: number) => Behaviour;

export interface TrackerOptions {
  /** Delays every answer (not hangs or drops) by this many ms: a slow tracker. */
  delayMs?: number | ((req: Received, index: number) => number);
}

export const ok = (body = "OK"): Behaviour => ({ status: 200, body });

/**
 * A tracker on 127.0.0.1 (random port) that records every request and answers as told:
 * any status and body, 429 with Retry-After, a hang, or a dropped connection.
 */
export class RecordingTracker {
  readonly received: Received[] = [];
  private responder: Responder = () => ok();
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly connectionIds = new WeakMap<object, number>();
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  private delayMs: TrackerOptions["delayMs"] = 0;
  port = 0;
  /** How many connections have been accepted so far. */
  connections = 0;

  constructor() {
    this.server.on("connection", (socket) => this.connectionIds.set(socket, ++this.connections));
  }

  static async start(responder?: Responder, opts: TrackerOptions = {}): Promise<RecordingTracker> {
    const t = new RecordingTracker();
    if (responder) t.respond(responder);
    t.delayMs = opts.delayMs ?? 0;
    await new Promise<void>((resolve) => t.server.listen(0, "127.0.0.1", resolve));
    t.port = (t.server.address() as AddressInfo).port;
    return t;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  get host() {
    return `127.0.0.1:${this.port}`;
  }

  /** The requests as `METHOD path?query` exactly as sent, in arrival order. */
  get lines() {
    return this.received.map((r) => `${r.method} ${r.url}`);
  }

  respond(responder: Responder) {
    this.responder = responder;
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const received: Received = {
        method: req.method ?? "GET", url: req.url ?? "/", path: url.pathname, query: Object.fromEntries(url.searchParams),
        body: Buffer.concat(chunks).toString("utf8"), headers: req.headers, at: Date.now(),
        connection: this.connectionIds.get(req.socket) ?? 0,
      };
      const index = this.received.push(received) - 1;
      res.on("error", () => {}); // the client may be gone (killed) before a delayed answer
      res.on("close", () => {
        if (received.answeredAt === undefined && received.closedAt === undefined) received.closedAt = Date.now();
      });
      const behaviour = this.responder(received, index);
      if (behaviour === "close") {
        received.closedAt = Date.now();
        req.socket.destroy();
      } else if (behaviour === "hang") {
        this.hanging.add(res);
      } else {
        const answer = () => {
          if (res.destroyed || req.socket.destroyed) return; // closedAt is set by the close listener
          res.writeHead(behaviour.status, { "content-type": "text/plain", ...behaviour.headers });
          res.end(behaviour.body ?? "");
          received.answeredAt = Date.now();
          this.notify();
        };
        const delay = typeof this.delayMs === "function" ? this.delayMs(received, index) : (this.delayMs ?? 0);
        if (delay > 0) {
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            answer();
          }, delay);
          this.timers.add(timer);
        } else answer();
      }
      this.notify();
    });
  }

  private notify() {
    this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
  }

  /** Requests received but neither answered nor closed yet. */
  open(): Received[] {
    return this.received.filter((r) => r.answeredAt === undefined && r.closedAt === undefined);
  }

  /** Resolves once `check` holds after a request arrives or is answered; rejects after `timeoutMs` of real time. */
  waitUntil(check: (received: Received[]) => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
    if (check(this.received)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`fake tracker: timed out waiting for ${what}; received ${this.received.length}: ${this.received.map((r) => r.url).join(" ")}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ check: () => check(this.received), resolve: done });
    });
  }

  waitForCount(n: number, timeoutMs?: number) {
    return this.waitUntil((r) => r.length >= n, timeoutMs, `${n} requests`);
  }

  /**
   * After a service process died: requests it had already written may still be read. Resolves once
   * neither a request nor a connection has arrived for `quietMs` (real time).
   */
  async waitQuiet(quietMs = 300): Promise<void> {
    for (let seen = -1; seen !== this.received.length + this.connections * 1e6;) {
      seen = this.received.length + this.connections * 1e6;
      await Bun.sleep(quietMs);
    }
  }

  /** Releases hanging requests and stops listening. */
  async close() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
