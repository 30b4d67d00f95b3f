// The column types of the PostgreSQL schema (schema.ts and its parts).
import { bigint, customType } from "drizzle-orm/pg-core";

/** An int8 column read as a JS number (times in epoch ms, ids, Telegram ids). */
export const int8 = (name: string) => bigint(name, { mode: "number" });
/**
 * A jsonb column passed to Bun.sql as the value itself: Bun encodes an object as JSON and parses
 * jsonb when it reads. drizzle's own jsonb() stringifies first, and Bun then stores that string as
 * a JSON *string* ("{\"a\":1}"), which reads back equal through drizzle but defeats every
 * `->>` and index on it (test/storage/pg-driver.test.ts holds Bun to this).
 */
export const jsonb = <T>(name: string) => customType<{ data: T; driverData: T }>({ dataType: () => "jsonb", toDriver: (v) => v, fromDriver: (v) => v })(name);
/**
 * The same for json: text as it came, keys in their order. A click's or an inbound call's
 * parameters keep the order of the URL they came in (jsonb would sort them), as on SQLite.
 */
export const json = <T>(name: string) => customType<{ data: T; driverData: T }>({ dataType: () => "json", toDriver: (v) => v, fromDriver: (v) => v })(name);
/** An id assigned by the database unless given (copy-to-postgres gives the SQLite ones). */
export const identity = () => int8("id").primaryKey().generatedByDefaultAsIdentity();
