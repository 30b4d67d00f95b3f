// The alerts' aggregate of the storage port (port.ts): their incidents, one row per incident of
// one cause, the newest row of each key being that alert's state.
import type { Awaitable } from "./port.ts";
import type { AlertIncidentChange, AlertIncidentRow, NewAlertIncident } from "./rows.ts";

export interface AlertReads {
  /** The newest row of every key: each alert's state (digests: the one sent last). */
  current(): Awaitable<AlertIncidentRow[]>;
  /** Incidents newest first (GET /api/alerts). */
  list(filter: { beforeId?: number; limit: number }): Awaitable<AlertIncidentRow[]>;
}

export interface AlertWrites {
  insert(row: NewAlertIncident): Awaitable<number>;
  update(id: number, change: AlertIncidentChange): Awaitable<void>;
  /** A pending incident whose cause ended before it fired: nothing was sent, nothing is kept. */
  delete(id: number): Awaitable<void>;
  /** Retention: up to `limit` resolved incidents and sent digests last changed before `before`, never a key's newest row; how many went. */
  prune(before: number, limit: number): Awaitable<number>;
}
