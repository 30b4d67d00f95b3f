// The storage port's promise, checked by the type checker (npm run typecheck): a write outside
// `storage.write` does not type-check, and inside it every aggregate's writes are at hand. Each
// `@ts-expect-error` below fails the type check the day the write it guards becomes possible.
import { expect, test } from "bun:test";
import type { Storage, Tx } from "../../src/storage/port.ts";

// Never called: only compiled.
async function writesOnlyInsideATransaction(storage: Storage) {
  // @ts-expect-error the read handle has no insert
  await storage.read.leads.insert({ campaignId: 1, subscriber: 1, click: "", username: "", chatId: null, status: "wait", joinedAt: null, createdAt: 0, updatedAt: 0 });
  // @ts-expect-error nor a re-send
  await storage.read.outbox.requeue(1, 0);
  // @ts-expect-error nor a journal line
  await storage.read.journal.insert({ kind: "x", createdAt: 0 });
  // @ts-expect-error nor a session
  await storage.read.sessions.insert({ id: "a", keyCheck: "b", createdAt: 0, expiresAt: 1 });
  await storage.write(async (tx: Tx) => {
    await tx.journal.insert({ kind: "x", createdAt: 0 });
    await tx.outbox.requeue(1, 0);
    return tx.leads.find(1, 1); // a transaction reads too
  });
}

test("the port's write handle is only given inside storage.write (checked at compile time)", () => {
  expect(typeof writesOnlyInsideATransaction).toBe("function");
});
