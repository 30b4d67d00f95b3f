// Normalising and hashing of personal data for the ad platforms (reference/ad-platforms.md §0.1):
// SHA-256 as 64 lowercase hex characters, after a normalisation that differs by platform and field.
// IP addresses, user agents and click ids (fbc, fbp, ttclid, yclid, GA4 client_id) are never hashed.
import { createHash } from "node:crypto";

/** SHA-256 of the UTF-8 text, 64 lowercase hex characters. */
export const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** A value that is already a SHA-256 hex digest (Meta's SDK leaves those alone instead of hashing a hash). */
export const isSha256Hex = (value: string) => /^[0-9a-f]{64}$/.test(value);

/** Meta `em` and TikTok `email`: trimmed and lowercased. */
export const normaliseEmail = (raw: string) => raw.trim().toLowerCase();

/**
 * Meta `ph`: digits only, the country code included, no `+`, no leading zeros. The number must
 * carry its country code: a local number (`(650)555-1212`) cannot be told from an international one.
 */
export const normaliseMetaPhone = (raw: string) => raw.replace(/\D+/g, "").replace(/^0+/, "");

/** TikTok `phone`: E.164 with the `+` (`+12133734253`); no spaces, letters or symbols. */
export const normaliseTikTokPhone = (raw: string) => `+${raw.replace(/\D+/g, "").replace(/^0+/, "")}`;

/**
 * `external_id` (Meta recommends hashing it, TikTok requires it): trimmed and lowercased, as Meta's
 * SDK and Segment's TikTok destination do. A Telegram user id is digits, so it hashes as written.
 */
export const normaliseExternalId = (raw: string) => raw.trim().toLowerCase();

/** Hashes a normalised value, leaving one that is already a SHA-256 digest as it is. */
export const hashNormalised = (normalised: string) => (isSha256Hex(normalised) ? normalised : sha256Hex(normalised));

/** The hashed external id of a Telegram user, the same for Meta and TikTok (so the pixel can send it too). */
export const hashedExternalId = (telegramUserId: string) => hashNormalised(normaliseExternalId(telegramUserId));
