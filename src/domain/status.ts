export const STATUSES = ["wait", "hold", "approve", "cancel", "trash"] as const;
export type Status = (typeof STATUSES)[number];

export const isStatus = (value: unknown): value is Status => STATUSES.includes(value as Status);

/** Where an outbox row stands: waiting (due, retrying or in flight), or finished one of four ways. */
export const POSTBACK_STATES = ["pending", "delivered", "failed", "rejected", "skipped"] as const;
export type PostbackState = (typeof POSTBACK_STATES)[number];

/** How an outbox row is sent: a tracker postback over HTTP, or a Bot API call of a bot. */
export const CHANNELS = ["http", "telegram"] as const;
export type Channel = (typeof CHANNELS)[number];

/** Where a lead event came from. */
export const EVENT_SOURCES = ["api", "telegram", "inbound"] as const;
export type EventSource = (typeof EVENT_SOURCES)[number];
