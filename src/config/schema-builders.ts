// The pieces the config schema (schema.ts) is written with.
import { Type, type SchemaOptions, type Static, type TSchema } from "@sinclair/typebox";

/**
 * A key whose default is given may be left out of the file (json-schema.ts drops it from `required`),
 * so the type read back has it: Static<> of the schema is the file after its defaults are filled in.
 */
export const withDefault = <T extends TSchema>(schema: T, value: Static<T>): T => ({ ...schema, default: value });

/** Closed words, read whatever their case and given back as spelt here. */
export const oneOf = <const T extends readonly string[]>(words: T, options: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...words], ...options });

export const mapping = <T extends Parameters<typeof Type.Object>[0]>(properties: T, options: SchemaOptions = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

export const nullable = <T extends TSchema>(schema: T, options: SchemaOptions = {}) => Type.Union([schema, Type.Null()], { default: null, ...options });

export const int = (minimum: number, maximum: number, options: SchemaOptions = {}) => Type.Integer({ minimum, maximum, ...options });

/**
 * A secret key: 32 characters at least (`openssl rand -hex 32` makes 64), so that guessing it is
 * hopeless even past the rate limits; never repeated in a message (writeOnly).
 */
export const MIN_KEY_LENGTH = 32;
export const secretKey = () => Type.String({
  minLength: MIN_KEY_LENGTH, writeOnly: true,
  errorMessage: `is shorter than ${MIN_KEY_LENGTH} characters, too easy to guess; make one with: openssl rand -hex 32`,
});

/** A list of strings none of which may be empty (keys, hosts, addresses). */
export const words = (options: SchemaOptions = {}, item: SchemaOptions = {}) => Type.Array(Type.String({ minLength: 1, ...item }), { default: [], ...options });

/** lib/duration.ts reads the same: one or more `<n><unit>` (`90s`, `1h30m`, `250ms`), or a plain number of seconds. */
export const DURATION_PATTERN = "^\\s*(\\d+(\\.\\d+)?|(\\d+(\\.\\d+)?(ms|s|m|h|d|w))+)\\s*$";
export const duration = (options: SchemaOptions = {}) => Type.Union(
  [Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })],
  { errorMessage: "must be a duration such as 90s, 5m, 2h, 30d (a plain number is seconds)", ...options },
);
