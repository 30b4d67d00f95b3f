// The HTTP app: every feature's routes behind one set of edge rules (rate limits, access, body
// size, unknown parameters, well-formed text) and one error envelope. Built from its
// dependencies by the composition root (server.ts); tests build it the same way.
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";
import type { Runtime } from "./config/runtime.ts";
import type { ActiveAlert } from "./alerts/monitor.ts";
import { alertRoutes } from "./alerts/routes.ts";
import { campaignRoutes } from "./campaigns/routes.ts";
import type { Cluster } from "./cluster/cluster.ts";
import { clusterRoutes } from "./cluster/routes.ts";
import { clickRoutes } from "./clicks/routes.ts";
import { pageRoutes, sessionRoutes } from "./dashboard/routes.ts";
import { CSRF_HEADER, sessionToken, validSession } from "./dashboard/session.ts";
import type { HostStates } from "./delivery/host-health.ts";
import type { HttpChannel } from "./delivery/http-channel.ts";
import { accessLog } from "./http/access-log.ts";
import { accessCheck, needsApiKey } from "./http/auth.ts";
import { exportRoutes } from "./export/routes.ts";
import { edgeRules } from "./http/edge.ts";
import { errorBody, errorHandler, inboundErrorBody } from "./http/errors.ts";
import { nestedDeeperThan, tooDeep } from "./http/json-limits.ts";
import { OPENAPI_DESCRIPTION, OPENAPI_TAGS, SECURITY_SCHEMES, openapiServers } from "./http/openapi.ts";
import { coerceIntegerText, integerFields } from "./http/integer-fields.ts";
import { ILL_FORMED, illFormedField } from "./http/unicode.ts";
import { bodyFieldDetails, declaredParams, unknownParamDetails, unknownParams } from "./http/unknown-params.ts";
import { inboundRoutes } from "./inbound/routes.ts";
import type { Intake } from "./intake/intake.ts";
import { leadRoutes } from "./leads/routes.ts";
import type { Clock } from "./lib/clock.ts";
import { AppError } from "./lib/errors.ts";
import type { Logger } from "./lib/logger.ts";
import type { Metrics } from "./lib/metrics.ts";
import { VERSION } from "./lib/version.ts";
import { demoTrackerRoutes } from "./ops/demo-tracker.ts";
import { opsRoutes } from "./ops/routes.ts";
import { hostRoutes } from "./postbacks/host-routes.ts";
import { postbackRoutes } from "./postbacks/routes.ts";
import { presetRoutes } from "./presets/routes.ts";
import { statsRoutes } from "./stats/routes.ts";
import { retentionRoutes } from "./retention/routes.ts";
import { moneyRoutes } from "./money/routes.ts";
import { joinRequestRoutes } from "./leads/join-request-routes.ts";
import type { Storage } from "./storage/port.ts";
import { redactUrl } from "./storage/postgres/connect.ts";
import type { TelegramBots } from "./telegram/bots.ts";
import { telegramRoutes } from "./telegram/routes.ts";
import { traceRoutes } from "./trace/routes.ts";
import { telegramStateOf } from "./telegram/rights.ts";

/** Everything the routes use; each feature takes only its part of it. */
export interface AppDeps {
  storage: Storage;
  intake: Intake;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  dispatcher: { readonly inFlightCount: number; wake(): void };
  /** The dispatcher's hosts (circuits, failures, flood waits), read only. */
  hosts: HostStates;
  /** The alerts active now (GET /api/alerts); idle() resolves once a look under way is over. */
  alerts: { active(): ActiveAlert[]; idle(): Promise<void> };
  /** The HTTP channel, for the campaign test sends (the same requests and verdicts as the dispatcher's). */
  httpChannel: HttpChannel;
  telegram: TelegramBots;
  /** The other instances on the database (PostgreSQL); on SQLite this process alone. */
  cluster: Cluster;
  /** The running config and campaigns; replaced whole by a reload. */
  runtime(): Runtime;
  /** Re-reads the config file; keeps the running config when the new one is invalid. */
  reloadConfig(): Promise<Runtime>;
}

/** Builds the whole HTTP app; server.ts listens, tests call app.handle. */
export function buildApp(deps: AppDeps) {
  const refusal = accessCheck({
    apiKeys: () => deps.runtime().config.api_keys,
    hasSession: async (request, keys) => {
      const token = sessionToken(request.headers.get("cookie"));
      return token !== null && (await validSession(deps.storage.read, token, keys, deps.clock.now())) !== null;
    },
    csrfHeader: CSRF_HEADER,
    metricsNeedKey: () => !deps.runtime().config.server.metrics_public,
  });
  const refuse = async (request: Request, path: string) => {
    const r = await refusal(request, path);
    return r && errorBody(r.status, r.code, r.message);
  };
  /** Query parameters and body fields each route declares (filled once every route is registered, below). */
  let queryParams = new Map<string, string[]>();
  let bodyFields = new Map<string, string[]>();
  let integers = new Map<string, Record<"query" | "params" | "body", string[]>>();
  // Built once; a reload that changes the limits or server.* takes effect after a restart.
  const { server } = deps.runtime().config;
  const edge = edgeRules({
    ...deps.runtime().config, metrics: deps.metrics, refuse,
    checksKey: (method, path) => needsApiKey(method, path) || (path === "/metrics" && !deps.runtime().config.server.metrics_public),
  });
  const access = accessLog({ log: deps.log, clientAddress: edge.signIn.clientAddress, enabled: () => deps.runtime().config.log.access });
  const handleError = errorHandler({
    log: deps.log,
    noteStorageFailure: (err) => deps.storage.noteFailure(err),
    storagePath: () => (deps.runtime().config.storage.driver === "postgres" ? redactUrl(deps.runtime().config.storage.url ?? "") : deps.runtime().config.storage.path),
    noteBodyTimeout: () => void deps.metrics.slowClients.bodyTimeouts++,
  });
  const app = new Elysia()
    .onRequest(({ request, server }) => access.begin(request, server))
    .onRequest(async ({ request, server }) => {
      const refused = await edge.refusal(request, server);
      return refused && access.answeredEarly(request, refused);
    })
    // Before validation, which would drop fields the body schema does not know (and read an array as {}).
    .onTransform({ as: "global" }, ({ request, route, body, query, params }) => {
      if (nestedDeeperThan(body)) throw tooDeep(); // before anything walks it: validation, the field check
      const ints = integers.get(`${request.method} ${route}`);
      if (ints) for (const [values, names] of [[query, ints.query], [params, ints.params], [body, ints.body]] as const) coerceIntegerText(values, names);
      const known = needsApiKey(request.method, route) ? bodyFields.get(`${request.method} ${route}`) : undefined;
      const details = known ? bodyFieldDetails(body, known) : [];
      if (details.length) throw new AppError(422, "validation_failed", `${details[0]!.field}: ${details[0]!.message}`, details);
    })
    // Second line of defence, on the route Elysia actually matched.
    .onBeforeHandle({ as: "global" }, async ({ request, route, query, body }) => {
      const refused = await refuse(request, route);
      if (refused) return refused;
      if (needsApiKey(request.method, route)) {
        const known = queryParams.get(`${request.method} ${route}`);
        const unknown = known ? unknownParams(request.url, known) : [];
        if (unknown.length) {
          const details = unknownParamDetails(unknown, known!);
          return errorBody(422, "validation_failed", `${details[0]!.field}: ${details[0]!.message}`, details);
        }
      }
      // Text that is not well-formed UTF-16 is refused at the edge, naming the field (the webhook's
      // updates are Telegram's own and handled by the telegram feature).
      // The click link reads its own query (URLSearchParams: bad UTF-8 becomes U+FFFD) and never refuses a visitor.
      if (route.startsWith("/telegram/") || route.startsWith("/c/")) return;
      const field = illFormedField(query, "query") ?? illFormedField(body, "body");
      if (field === null) return;
      if (route === "/api/postback") return inboundErrorBody(400, "bad-request", `${field.replace(/^(query|body)\./, "")}: ${ILL_FORMED}`);
      return errorBody(422, "validation_failed", `${field}: ${ILL_FORMED}`, [{ field, message: ILL_FORMED }]);
    })
    // A reader may have seen rows committed but not yet fsynced (group commit syncs off the event
    // loop): answer once they are on the disk, so nothing shown can be lost by a power cut.
    .onAfterHandle({ as: "global" }, async ({ request }) => {
      if (request.method === "GET") await deps.storage.durable();
    })
    .onError((ctx) => access.answeredError(ctx.request, handleError(ctx)))
    .onAfterResponse({ as: "global" }, (ctx) => {
      edge.answered(ctx.request);
      access.finished(ctx);
    })
    .use(openapi({
      path: "/swagger",
      provider: null, // the page is served by pageRoutes from the pinned swagger-ui-dist, embedded
      documentation: {
        info: { title: "tgcpa", version: VERSION, description: OPENAPI_DESCRIPTION },
        servers: openapiServers(server.public_url), tags: OPENAPI_TAGS,
        components: { securitySchemes: SECURITY_SCHEMES },
        // Any one of them: the API key as a Bearer token or as ?key=, or a dashboard session cookie.
        security: [{ apiKey: [] }, { apiKeyQuery: [] }, { dashboardSession: [] }],
      },
    }))
    .use(pageRoutes())
    .use(sessionRoutes({ ...deps, config: () => deps.runtime().config }, edge.signIn))
    .use(opsRoutes(deps))
    .use(statsRoutes({ ...deps, defaultTimeZone: () => deps.runtime().config.dashboard.timezone, clickGroups: () => deps.runtime().config.dashboard.click_groups }))
    .use(retentionRoutes({ ...deps, defaultTimeZone: () => deps.runtime().config.dashboard.timezone }))
    .use(moneyRoutes({ ...deps, defaultTimeZone: () => deps.runtime().config.dashboard.timezone }))
    .use(leadRoutes(deps))
    .use(joinRequestRoutes(deps))
    .use(postbackRoutes(deps))
    .use(hostRoutes(deps))
    .use(exportRoutes(deps))
    .use(traceRoutes(deps))
    .use(alertRoutes(deps))
    .use(campaignRoutes({ ...deps, telegramState: telegramStateOf(deps.storage.read) }))
    .use(clickRoutes({
      ...deps, clientAddress: edge.signIn.clientAddress, cameOverHttps: edge.signIn.cameOverHttps,
      botUsername: telegramStateOf(deps.storage.read).botUsername,
    }))
    .use(inboundRoutes(deps, edge.signIn.clientAddress))
    .use(presetRoutes())
    .use(telegramRoutes(deps))
    .use(clusterRoutes(deps));
  const built = deps.runtime().config.demo_tracker ? app.use(demoTrackerRoutes(deps.log.child({ component: "demo-tracker" }))) : app;
  queryParams = declaredParams(built.routes, "query");
  bodyFields = declaredParams(built.routes, "body");
  integers = integerFields(built.routes);
  return built;
}
