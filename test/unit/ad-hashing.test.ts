// The reference's test vectors (shared/reference/ad-platforms.md §0.1): each normaliser and the
// SHA-256 of its output, written here as the reference gives them, not computed by src code.
import { describe, expect, test } from "bun:test";
import {
  hashNormalised, hashedExternalId, normaliseEmail, normaliseExternalId, normaliseMetaPhone, normaliseTikTokPhone, sha256Hex,
} from "../../src/adplatforms/hashing.ts";

describe("normalise, then SHA-256 (reference §0.1 test vectors)", () => {
  const vectors = [
    { field: "Meta em", normalise: normaliseEmail, raw: "John_Smith@gmail.com", normalised: "john_smith@gmail.com", sha256: "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f" },
    // The reference's raw `(650)555-1212` has no country code; Meta wants it included, so the caller gives it (+1).
    { field: "Meta ph", normalise: normaliseMetaPhone, raw: "+1 (650)555-1212", normalised: "16505551212", sha256: "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176" },
    { field: "TikTok email", normalise: normaliseEmail, raw: " ALICE_abc@gmail.com ", normalised: "alice_abc@gmail.com", sha256: "848a771458438fc2ec420560d769fb9b9b86851ee338ec56517baabd79d3bb4f" },
    { field: "TikTok phone", normalise: normaliseTikTokPhone, raw: "(+1)2133734253", normalised: "+12133734253", sha256: "9f7ec22d72092cd3c0b58726ed9c2d91b92e51a3f29837508fb2948bb22dd2fd" },
    { field: "TikTok external_id", normalise: normaliseExternalId, raw: "user_123", normalised: "user_123", sha256: "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b" },
  ];
  test.each(vectors)("$field: $raw", ({ normalise, raw, normalised, sha256 }) => {
    expect(normalise(raw)).toBe(normalised);
    expect(hashNormalised(normalise(raw))).toBe(sha256);
    expect(sha256Hex(normalised)).toBe(sha256);
  });

  test("one phone hashes differently for Meta and TikTok (the +)", () => {
    expect(normaliseMetaPhone("+1 213 373 4253")).toBe("12133734253");
    expect(normaliseTikTokPhone("+1 213 373 4253")).toBe("+12133734253");
    expect(hashNormalised(normaliseMetaPhone("+1 213 373 4253"))).not.toBe(hashNormalised(normaliseTikTokPhone("+1 213 373 4253")));
  });

  test("Meta: no leading zeros", () => {
    expect(normaliseMetaPhone("0044 20 7946 0018")).toBe("442079460018");
  });

  test("a value that is already a SHA-256 digest is not hashed again (as Meta's SDK does)", () => {
    const digest = "80fba0ae1c48e3978e43e4efc365e14e12ea0c830ba8ba5b9a2dafc7e3f2ab8b";
    expect(hashNormalised(digest)).toBe(digest);
  });

  test("the Telegram user id as external id: SHA-256 of its digits, 64 lowercase hex", () => {
    // printf '%s' 777000 | sha256sum
    expect(hashedExternalId("777000")).toBe("fc554fb801d13e14c6141f3acbb091c855bb326e2f7761d51b99aafb7ccd54bc");
    expect(hashedExternalId(" 777000 ")).toBe(hashedExternalId("777000"));
    expect(hashedExternalId("777000")).toMatch(/^[0-9a-f]{64}$/);
  });
});
