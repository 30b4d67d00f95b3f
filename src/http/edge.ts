// The edge rules every request meets before anything reads its body, in order: the public
// endpoints' rate limits, the limit on wrong API keys, access, body sizes, and the cap on requests
// in progress per client without a key; then its body's deadline is armed. Built once by app.ts
// (a reload that changes rate_limits or server.* takes effect after a restart).
import type { Config } from "../config/model.ts";
import type { Metrics } from "../lib/metrics.ts";
import { presentedKey, routedPath } from "./auth.ts";
import { declaredLength } from "./body.ts";
import { armBodyDeadline, hasBody } from "./body-deadline.ts";
import { clientAddressResolver, httpsResolver, type PeerSource } from "./client-address.ts";
import { errorBody, inboundErrorBody } from "./errors.ts";
import { MAX_API_JSON_BYTES } from "./json-limits.ts";
import { KeyFailureLimit } from "./key-failures.ts";
import { RateLimiter } from "./rate-limit.ts";
import { RequestsInProgress } from "./requests-in-progress.ts";

/** Inbound postbacks carry a few short parameters; 64 KiB is generous. */
const MAX_INBOUND_BODY_BYTES = 64 * 1024;

const tooManyRequests = (inbound: boolean, waitMs: number, message = "too many requests; slow down") => {
  const headers = { "content-type": "application/json", "retry-after": String(Math.ceil(waitMs / 1000)) };
  const body = inbound
    ? { status: "error", error: "rate-limit", message }
    : { error: { code: "rate_limited", message } };
  return new Response(JSON.stringify(body), { status: 429, headers });
};

export interface EdgeDeps {
  rate_limits: Config["rate_limits"];
  server: Config["server"];
  metrics: Metrics;
  /** Whether the access rule checks an API key on this route (management API; /metrics with metrics_public off). */
  checksKey(method: string, path: string): boolean;
  /** The access rule's refusal (a 401 or 403 envelope) for a request on a path, if any. */
  refuse(request: Request, path: string): Promise<Response | undefined>;
}

export function edgeRules(deps: EdgeDeps) {
  const { rate_limits: limits, server, metrics } = deps;
  const inboundLimit = new RateLimiter(limits.inbound_per_minute);
  const webhookLimit = new RateLimiter(limits.webhook_per_minute);
  const clientAddress = clientAddressResolver(server.trusted_proxies);
  const inProgress = new RequestsInProgress(limits.requests_in_progress_per_client);
  metrics.requestsInProgress = () => inProgress.total;
  const keyFailures = new KeyFailureLimit({ perClientPerMinute: limits.api_key_failures_per_minute, allPerMinute: limits.api_key_failures_all_per_minute });

  const check = async (request: Request, peer: PeerSource): Promise<Response | undefined> => {
    const path = routedPath(request.url);
    const inbound = path === "/api/postback";
    const limiter = inbound ? inboundLimit : path.startsWith("/telegram/") ? webhookLimit : null;
    const wait = limiter?.take(clientAddress(request, peer) ?? "unknown", Date.now()) ?? 0;
    if (wait > 0) return tooManyRequests(inbound, wait);
    // A key presented to the management API: a wrong one costs its client a slot (key-failures.ts).
    const keyChecked = deps.checksKey(request.method, path);
    const keyed = keyChecked ? presentedKey(request) : null;
    const client = keyed && (clientAddress(request, peer) ?? "unknown");
    const keyWait = client ? keyFailures.wait(client, Date.now()) : 0;
    if (keyWait > 0) {
      metrics.recordAuthFailure(keyed!.via, "limited");
      return tooManyRequests(false, keyWait);
    }
    const refused = await deps.refuse(request, path);
    if (client && refused?.status === 401) {
      keyFailures.failed(client, Date.now());
      metrics.recordAuthFailure(keyed!.via, "refused");
    } else if (client) keyFailures.succeeded(client, Date.now());
    if (refused) return refused;
    // An inbound postback is a handful of parameters, a management body a few hundred bytes: a large one is refused before it is read.
    if (inbound && declaredLength(request) > MAX_INBOUND_BODY_BYTES) {
      return inboundErrorBody(413, "bad-request", `the request body is larger than ${MAX_INBOUND_BODY_BYTES} bytes`);
    }
    if (path.startsWith("/api/") && !inbound && declaredLength(request) > MAX_API_JSON_BYTES) {
      return errorBody(413, "body_too_large", `body: larger than ${MAX_API_JSON_BYTES} bytes`);
    }
    // Without a key or session, a client has at most so many requests in progress (slow bodies);
    // counted last, as every request counted here is let go by `answered`.
    if (!keyChecked && !inProgress.enter(request, clientAddress(request, peer) ?? "unknown")) {
      metrics.slowClients.refusedInProgress++;
      return tooManyRequests(inbound, 1000, "too many requests in progress from this address");
    }
    armBodyDeadline(request); // its body must arrive in time (body-deadline.ts)
    return undefined;
  };

  return {
    /** A Response refuses the request (Elysia's onRequest); undefined lets it through. */
    async refusal(request: Request, peer: PeerSource): Promise<Response | undefined> {
      const refused = await check(request, peer);
      // A refusal sent before the body is read closes the connection: kept open, a slow body
      // would hold it (and its file descriptor) outside every limit.
      if (refused && hasBody(request)) refused.headers.set("connection", "close");
      return refused;
    },
    /** Its answer is done (Elysia's onAfterResponse). */
    answered: (request: Request) => inProgress.leave(request),
    /** What the dashboard's sign-in (and the inbound log) take from the edge. */
    signIn: { clientAddress, cameOverHttps: httpsResolver(server.trusted_proxies), keyFailures },
  };
}
