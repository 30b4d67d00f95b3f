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
}

/** What the tracker does with one request. */
export type Behaviour =
  | { status: number; body?: string; headers?: Record<string, string> }
  | "hang" // never answers
  | "close"; // drops the connection without an answer

export type Responder = (req: Received, index: number) => Behaviour;

export const ok = (body = "OK"): Behaviour => ({ status: 200, body });

/**
 * A tracker on 127.0.0.1 (random port) that records every request and answers as told:
 * any status and body, 429 with Retry-After, a hang, or a dropped connection.
 */
export class FakeTracker {
  readonly received: Received[] = [];
  private responder: Responder = () => ok();
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  private waiters: { check: () => boolean; resolve: () => void }[] = [];
  port = 0;

  static async start(responder?: Responder): Promise<FakeTracker> {
    const t = new FakeTracker();
    if (responder) t.respond(responder);
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
      };
      const index = this.received.push(received) - 1;
      const behaviour = this.responder(received, index);
      if (behaviour === "close") {
        req.socket.destroy();
      } else if (behaviour === "hang") {
        this.hanging.add(res);
      } else {
        res.writeHead(behaviour.status, { "content-type": "text/plain", ...behaviour.headers });
        res.end(behaviour.body ?? "");
      }
      this.waiters = this.waiters.filter((w) => (w.check() ? (w.resolve(), false) : true));
    });
  }

  /** Resolves once `check` holds after a request arrives; rejects after `timeoutMs` of real time. */
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

  /** Releases hanging requests and stops listening. */
  async close() {
    for (const res of this.hanging) res.socket?.destroy();
    this.hanging.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
