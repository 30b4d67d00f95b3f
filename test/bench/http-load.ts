// The Bun load generator (fallback when wrk is absent), run in its own process so it does not
// share a thread with the service. Closed loop: `concurrency` keep-alive connections, each sends
// the next request as soon as the previous answer is complete. It speaks HTTP/1.1 over raw
// Bun.connect sockets (no fetch, no Response objects) so that the client costs far less CPU per
// request than the server it measures.
//
//   bun test/bench/http-load.ts '{"port":1234,"path":"/api/events","concurrency":64,"seconds":10,"base":1000,"apiKey":"...","runId":"x"}'
//
// Every request is a POST /api/events for a new subscriber (base + n) with its own
// Idempotency-Key; the bare baseline server gets exactly the same bytes. Prints one JSON line.

interface Opts {
  port: number;
  path: string;
  concurrency: number;
  seconds: number;
  base: number;
  apiKey: string;
  runId: string;
  campaign: string;
  /** Set: every request is a Telegram /start update to a webhook with this secret. */
  webhookSecret?: string;
  /** Every request is a GET of the click link at `path` (a new click each), answered 302. */
  click?: boolean;
}

const opts = JSON.parse(process.argv[2] ?? "{}") as Opts;
const HOST = "127.0.0.1";

let sub = opts.base;
function nextRequest(): Buffer {
  sub++;
  if (opts.click) {
    return Buffer.from(`GET ${opts.path}?utm_source=fb&utm_campaign=spring&sub1=${sub}&fbclid=IwAR${sub} HTTP/1.1\r\nHost: ${HOST}:${opts.port}\r\n`
      + "User-Agent: Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148\r\n\r\n", "latin1");
  }
  if (opts.webhookSecret !== undefined) {
    const update = `{"update_id":${sub},"message":{"message_id":1,"date":1700000000,"chat":{"id":${sub},"type":"private"},"from":{"id":${sub},"is_bot":false,"first_name":"B"},"text":"/start ${opts.campaign}-c${sub}","entities":[{"offset":0,"length":6,"type":"bot_command"}]}}`;
    return Buffer.from(
      `POST ${opts.path} HTTP/1.1\r\nHost: ${HOST}:${opts.port}\r\nContent-Type: application/json\r\n` +
      `X-Telegram-Bot-Api-Secret-Token: ${opts.webhookSecret}\r\nContent-Length: ${Buffer.byteLength(update)}\r\n\r\n${update}`,
      "latin1",
    );
  }
  const body = `{"campaign":"${opts.campaign}","subscriber":${sub},"status":"wait","click":"c${sub}"}`;
  return Buffer.from(
    `POST ${opts.path} HTTP/1.1\r\nHost: ${HOST}:${opts.port}\r\nContent-Type: application/json\r\n` +
    `Authorization: Bearer ${opts.apiKey}\r\nIdempotency-Key: k${opts.runId}-${sub}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    "latin1",
  );
}

let latencies = new Float64Array(1 << 16);
let done = 0;
let non2xx = 0;
let errors = 0;
let lastDone = 0;
const t0 = performance.now();
const deadline = t0 + opts.seconds * 1000;

function record(ms: number, status: number) {
  if (done === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[done++] = ms;
  if (status < 200 || status > (opts.click ? 399 : 299)) non2xx++; // the click link answers 302
  lastDone = performance.now();
}

interface Conn {
  buf: Buffer | null;
  sentAt: number;
  pending: Buffer | null;
  closed: boolean;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Length of one complete response at the start of `buf`, or -1 when more bytes are needed. */
function responseLength(buf: Buffer): { len: number; status: number } | null {
  const headerEnd = buf.indexOf(CRLFCRLF);
  if (headerEnd < 0) return null;
  const head = buf.toString("latin1", 0, headerEnd);
  const status = Number(head.slice(9, 12));
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  const bodyStart = headerEnd + 4;
  if (cl) {
    const len = bodyStart + Number(cl[1]);
    return buf.length >= len ? { len, status } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    let at = bodyStart;
    while (true) {
      const lineEnd = buf.indexOf("\r\n", at, "latin1");
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString("latin1", at, lineEnd), 16);
      if (!Number.isFinite(size)) throw new Error("bad chunk size");
      const next = lineEnd + 2 + size + 2;
      if (buf.length < next) return null;
      if (size === 0) return { len: next, status };
      at = next;
    }
  }
  return { len: bodyStart, status }; // no body
}

function send(socket: Bun.Socket<Conn>) {
  const req = nextRequest();
  socket.data.sentAt = performance.now();
  const n = socket.write(req);
  socket.data.pending = n < req.length ? req.subarray(Math.max(0, n)) : null;
}

let open = 0;
let finish: () => void = () => {};
const finished = new Promise<void>((r) => (finish = r));

function closeConn(socket: Bun.Socket<Conn>) {
  if (socket.data.closed) return;
  socket.data.closed = true;
  open--;
  socket.end();
  if (open === 0) finish();
}

const handlers: Bun.SocketHandler<Conn> = {
  data(socket, chunk) {
    const c = socket.data;
    c.buf = c.buf ? Buffer.concat([c.buf, chunk]) : Buffer.from(chunk);
    let r: { len: number; status: number } | null;
    try {
      r = responseLength(c.buf);
    } catch {
      errors++;
      closeConn(socket);
      return;
    }
    if (!r) return;
    record(performance.now() - c.sentAt, r.status);
    c.buf = c.buf.length > r.len ? c.buf.subarray(r.len) : null;
    if (performance.now() < deadline) send(socket);
    else closeConn(socket);
  },
  drain(socket) {
    const p = socket.data.pending;
    if (!p) return;
    const n = socket.write(p);
    socket.data.pending = n < p.length ? p.subarray(Math.max(0, n)) : null;
  },
  close(socket) {
    if (!socket.data.closed) {
      if (performance.now() < deadline) errors++;
      socket.data.closed = true;
      open--;
      if (open === 0) finish();
    }
  },
  error(socket) {
    errors++;
    closeConn(socket);
  },
};

const sockets = await Promise.all(Array.from({ length: opts.concurrency }, () =>
  Bun.connect<Conn>({ hostname: HOST, port: opts.port, socket: handlers, data: { buf: null, sentAt: 0, pending: null, closed: false } })));
open = sockets.length;
const start = performance.now();
for (const s of sockets) send(s);
// Bounded: the run ends at the deadline; a server that stops answering is cut off 15 s later.
const cutoff = setTimeout(() => {
  errors += open;
  finish();
}, opts.seconds * 1000 + 15_000);
await finished;
clearTimeout(cutoff);

const lat = latencies.subarray(0, done).sort();
const pct = (p: number) => (lat.length ? lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))]! : NaN);
const seconds = (lastDone - start) / 1000;
process.stdout.write(`${JSON.stringify({
  generator: "bun-raw-socket", requests: done, seconds, rps: done / seconds, p50Ms: pct(50), p99Ms: pct(99), non2xx, errors,
})}\n`);
process.exit(0);

export {};
