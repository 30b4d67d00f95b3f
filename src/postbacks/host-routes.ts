import { Elysia } from "elysia";
import type { HostStates } from "../delivery/host-health.ts";
import { responses } from "../http/openapi.ts";
import type { Clock } from "../lib/clock.ts";
import { iso } from "../lib/json.ts";
import { stripUrls } from "../lib/logger.ts";
import { HostList, hostListExample } from "./model.ts";

export interface HostRoutesDeps {
  clock: Clock;
  /** The dispatcher's hosts, read only. */
  hosts: HostStates;
}

/** GET /api/hosts: each host's circuit and run of failures, as the dispatcher holds them (since this process started). */
export function hostRoutes(ctx: HostRoutesDeps) {
  return new Elysia({ detail: { tags: ["postbacks"] } })
    .get("/api/hosts", () => {
      const now = ctx.clock.now();
      return {
        items: ctx.hosts.states(now).map((h) => ({
          host: h.host, in_flight: h.inFlight, circuit: h.circuit, open_until: iso(h.openUntil), circuit_failures: h.circuitFailures,
          failing_since: iso(h.failingSince), failed_attempts: h.failedAttempts, last_delivered_at: iso(h.lastDeliveredAt),
          last_failure: h.lastFailure && { at: iso(h.lastFailure.at)!, reason: stripUrls(h.lastFailure.reason) },
          paused_until: iso(h.pausedUntil),
        })),
        now: iso(now)!,
      };
    }, {
      detail: {
        summary: "Hosts the dispatcher sends to: circuit state (paused until when), failures since the last delivery, flood waits",
        description: "Kept in memory since the process started: a host appears once it was attempted. A pending postback of a host whose circuit is `open` waits until `open_until`.",
        responses: responses({ schema: HostList, example: hostListExample, description: "Every host attempted since start" }, 401),
      },
    });
}
