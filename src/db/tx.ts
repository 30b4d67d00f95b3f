import type { Db } from "./client.ts";

/** A transaction handle; repositories take either the database or a transaction. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Executor = Db | Tx;
