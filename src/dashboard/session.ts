// Dashboard sessions: a sign-in with an API key gives an HttpOnly cookie holding a random token.
// The database keeps only the token's SHA-256 and an HMAC of the key keyed by the token, so a copy
// of the database reveals neither, and a session stops working the moment its key leaves the config.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Reads, Tx } from "../storage/port.ts";

export const SESSION_COOKIE = "tgcpa_session";
/**
 * Requests authenticated by the cookie that change something must carry this header. A form or an
 * <img> on another site cannot set it, and a script there cannot send it without a CORS preflight
 * that this service never grants; SameSite=Strict already keeps the cookie off cross-site requests.
 */
export const CSRF_HEADER = "x-requested-with";

const digest = (token: string) => new Bun.CryptoHasher("sha256").update(token).digest("hex");
const keyCheck = (token: string, key: string) => createHmac("sha256", token).update(key).digest();

/** The session token in a Cookie header, if it has one of the right shape (43 base64url chars). */
export function sessionToken(cookieHeader: string | null): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return null;
}

export interface CookieOptions {
  secure: boolean;
  maxAgeSeconds: number;
}

export const sessionCookie = (token: string, o: CookieOptions) =>
  `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${o.maxAgeSeconds}${o.secure ? "; Secure" : ""}`;

export const clearedSessionCookie = (secure: boolean) =>
  `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`;

/** A new session's token (for the cookie) and what is stored of it, for a key that was already checked. */
export function newSession(key: string, now: number, ttlMs: number) {
  const token = randomBytes(32).toString("base64url");
  return { token, row: { id: digest(token), keyCheck: keyCheck(token, key).toString("hex"), createdAt: now, expiresAt: now + ttlMs } };
}

/** Stores a new session; expired ones go, so the table stays as small as the sessions in use. */
export async function openSession(tx: Tx, session: ReturnType<typeof newSession>) {
  await tx.sessions.deleteExpired(session.row.createdAt);
  await tx.sessions.insert(session.row);
}

/** The session a token names, if it has not expired and its key is still one of `keys`. */
export async function validSession(read: Pick<Reads, "sessions">, token: string, keys: readonly string[], now: number): Promise<{ expiresAt: number } | null> {
  const row = await read.sessions.find(digest(token));
  if (!row || row.expiresAt <= now) return null;
  const stored = Buffer.from(row.keyCheck, "hex");
  if (stored.length !== 32) return null;
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(keyCheck(token, key), stored) || ok; // every key, no early exit
  return ok ? { expiresAt: row.expiresAt } : null;
}

export const closeSession = (tx: Tx, token: string) => tx.sessions.delete(digest(token));
