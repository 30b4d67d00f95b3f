// Advisory lock keys of tgcpa on PostgreSQL. Transaction locks on a lead or a key take the two-key
// form (space, hashtext(name)): a space of their own, apart from the migrations' one-key lock
// (migrate.ts) and each other. A hash collision only makes two unrelated writers wait in turn.

/** The first key of each two-key advisory lock tgcpa takes (any int4 constants no other lock uses: "tg" + n). */
export const LOCK_SPACE = {
  /** One lead (campaign × subscriber), for a write transaction. */
  lead: 0x7467_0001,
  /** One Idempotency-Key of POST /api/events, for a write transaction. */
  idempotencyKey: 0x7467_0002,
  /** Work that one instance at a time runs (Storage.runAlone: retention), a session lock. */
  alone: 0x7467_0003,
} as const;
