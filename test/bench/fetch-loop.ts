// The drain baseline, in its own process: a bare loop of fetch with `concurrency` workers sending
// `count` GETs to the receiver (URLs shaped like the service's postbacks, the body read as the
// dispatcher reads it). No database, no classification: the ceiling of fetch itself.
//   bun test/bench/fetch-loop.ts BASE_URL COUNT CONCURRENCY
// Prints one JSON line {requests, seconds, rps, errors}.
const [base, countArg, concArg] = process.argv.slice(2);
const count = Number(countArg);
const concurrency = Number(concArg);
if (!base || !Number.isInteger(count) || !Number.isInteger(concurrency)) throw new Error("usage: fetch-loop.ts BASE_URL COUNT CONCURRENCY");

const deadline = Date.now() + Number(process.env.BENCH_FETCH_TIME_LIMIT_S ?? 600) * 1000;
let next = 0;
let done = 0;
let errors = 0;
const t0 = performance.now();
async function worker() {
  while (next < count && Date.now() < deadline) {
    const i = ++next;
    try {
      const res = await fetch(`${base}/pb?click=c${i}&status=wait&lead=${i}&event=${i}`, {
        headers: { "user-agent": "tgcpa-bench/fetch-loop" }, signal: AbortSignal.timeout(5000),
      });
      await res.text();
      if (res.ok) done++;
      else errors++;
    } catch {
      errors++;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ requests: done, seconds, rps: done / seconds, errors })}\n`);
process.exit(0);

export {};
