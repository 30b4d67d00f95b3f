// Helper servers, each run in its own process by the bench (lib.ts startHelper):
//   bun test/bench/servers.ts bare      — a bare Bun.serve answering "ok" (the intake baseline)
//   bun test/bench/servers.ts receiver  — a fast tracker answering 200 "OK" and counting requests
// Both listen on 127.0.0.1 with a free port and print {"port": N} as their first line.
// The receiver also answers GET /__stats (count, distinct events, first/last arrival in ms of its
// own performance clock) and POST /__reset.

const mode = process.argv[2];
if (mode !== "bare" && mode !== "receiver") {
  process.stderr.write("usage: servers.ts bare|receiver\n");
  process.exit(2);
}

let count = 0;
let first = 0;
let last = 0;
let seen = new Set<number>();

function eventOf(url: string): number {
  const i = url.indexOf("event=");
  if (i < 0) return -1;
  let n = 0;
  for (let j = i + 6; j < url.length; j++) {
    const c = url.charCodeAt(j);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
  }
  return n;
}

const server = mode === "bare"
  ? Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") })
  : Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = req.url;
      const path = url.indexOf("/__");
      if (path >= 0 && path < 30) {
        if (url.includes("/__stats")) return Response.json({ count, distinct: seen.size, first, last });
        if (url.includes("/__reset")) {
          count = 0;
          first = 0;
          last = 0;
          seen = new Set();
          return new Response("reset");
        }
      }
      const now = performance.now();
      if (count === 0) first = now;
      last = now;
      count++;
      const ev = eventOf(url);
      if (ev >= 0) seen.add(ev);
      return new Response("OK");
    },
  });

process.stdout.write(`${JSON.stringify({ port: server.port, pid: process.pid })}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});

export {};
