import { Elysia, t } from "elysia";
import { Int } from "../http/schema.ts";
import { Nullable, responses } from "../http/openapi.ts";
import type { Cluster } from "./cluster.ts";

const InstanceList = t.Object({
  items: t.Array(t.Object({
    id: t.String({ description: "hostname-pid-random, chosen at start" }),
    version: t.String(), commit: Nullable(t.String({ description: "the commit it was built from" })),
    config_hash: t.String({ description: "SHA-256 of its config file (first 16 hex digits): instances on one config show one hash" }),
    hostname: t.String(), pid: Int(),
    started_at: t.String({ format: "date-time" }),
    heartbeat_at: t.String({ format: "date-time", description: "its last heartbeat (every second while it runs)" }),
    alive: t.Boolean({ description: "its heartbeat is at most 3 s old" }),
    self: t.Boolean({ description: "the instance that answers" }),
  })),
});
const instancesExample = {
  items: [{ id: "tg1-4211-a1b2c3", version: "0.1.0", commit: "abc123def456", config_hash: "9f2c4e1a7b3d5f60", hostname: "tg1", pid: 4211,
    started_at: "2024-05-01T10:00:00.000Z", heartbeat_at: "2024-05-01T12:00:00.000Z", alive: true, self: true }],
};

export function clusterRoutes(ctx: { cluster: Pick<Cluster, "instances"> }) {
  return new Elysia().get("/api/instances", async () => ({ items: await ctx.cluster.instances() }), {
    detail: {
      tags: ["ops"], summary: "The instances on the database: version, config hash, last heartbeat",
      description: "On PostgreSQL every instance that ran on the database in the last 10 minutes, the first started first; on SQLite the one process.",
      responses: responses({ schema: InstanceList, example: instancesExample, description: "Every instance" }, 401, 503),
    },
  });
}
