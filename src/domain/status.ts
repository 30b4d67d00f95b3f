export const STATUSES = ["wait", "hold", "approve", "cancel", "trash"] as const;
export type Status = (typeof STATUSES)[number];

export const isStatus = (value: unknown): value is Status => STATUSES.includes(value as Status);
