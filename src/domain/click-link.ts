// The rules of tgcpa's own click link (SPEC §9, GET /c/{campaign}), as pure functions: how much of
// a click is kept, the Start payload it becomes, Meta's fbc, the link-preview crawlers that make no
// click, and what the lead's {click} is when its Start carries a click token.

/** Telegram carries a Start payload of at most 64 characters of A-Z a-z 0-9 _ - (reference/telegram.md). */
export const START_PAYLOAD_MAX = 64;
const PAYLOAD_CHARS = /^[A-Za-z0-9_-]*$/;

/**
 * A click token is 9 random bytes in base64url: 12 characters, 72 bits. At the click link's rate
 * limit nobody can find a live token by trying (2^72 tokens), yet it leaves a campaign code up to
 * 64 - 1 - 12 = 51 characters.
 */
export const CLICK_TOKEN_BYTES = 9;
export const CLICK_TOKEN_LENGTH = 12;
const TOKEN = /^[A-Za-z0-9_-]{12}$/;

export const isClickToken = (click: string) => TOKEN.test(click);

/** The token of random bytes (CLICK_TOKEN_BYTES of them): base64url, no padding. */
export const clickToken = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, CLICK_TOKEN_BYTES)).toString("base64url");

/** How long a click id may be in a campaign's deep link: the payload is `<code>-<click>`. */
export const maxClickLength = (code: string) => START_PAYLOAD_MAX - code.length - 1;

/** The longest campaign code a click link can serve (its token must fit behind it). */
export const MAX_CLICK_LINK_CODE = START_PAYLOAD_MAX - 1 - CLICK_TOKEN_LENGTH;

/** Why `<code>-<click>` cannot be a Start payload, in words; null when Telegram carries it. */
export function startPayloadProblem(code: string, click: string): string | null {
  const payload = click === "" ? code : `${code}-${click}`;
  if (payload.length > START_PAYLOAD_MAX) {
    return `the Start payload "${payload.length > 80 ? `${payload.slice(0, 77)}...` : payload}" would be ${payload.length} characters; `
      + `Telegram carries at most ${START_PAYLOAD_MAX}, so with the code "${code}" a click id may be at most ${Math.max(0, maxClickLength(code))} characters`;
  }
  if (!PAYLOAD_CHARS.test(payload)) return "a Start payload carries only A-Z a-z 0-9 _ - (Telegram drops any other character)";
  return null;
}

/** How much of a click is kept (SPEC §9): more is cut, never refused — a visitor from an ad must reach the bot. */
export const CLICK_BOUNDS = {
  /** Query parameters kept, the first of each name; later names are dropped. */
  params: 50,
  /** A parameter whose name is longer is dropped. */
  nameBytes: 64,
  /** Values (parameters, the _fbc/_fbp cookies, the user agent) are cut to this many bytes of UTF-8. */
  valueBytes: 512,
  /** The referrer and the landing URL are cut to this many bytes. */
  urlBytes: 2048,
} as const;

/** The longest start of `text` that is at most `max` bytes of UTF-8 (never half a character). */
export function cutToBytes(text: string, max: number): string {
  if (text.length * 3 <= max || Buffer.byteLength(text) <= max) return text;
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}

/**
 * The query parameters of a click within CLICK_BOUNDS: the first value of each name, names up to
 * 64 bytes, values cut to 512 bytes, at most 50 names. `cut` counts what was dropped or shortened.
 * `query` is the text after `?` (URLSearchParams decoding: `+` is a space, bad UTF-8 becomes U+FFFD).
 */
export function boundClickParams(query: string): { params: Record<string, string>; cut: number } {
  const params: Record<string, string> = {};
  let kept = 0;
  let cut = 0;
  for (const [name, value] of new URLSearchParams(query)) {
    if (name === "") continue;
    if (Object.hasOwn(params, name)) {
      cut++;
      continue;
    }
    if (Buffer.byteLength(name) > CLICK_BOUNDS.nameBytes || kept >= CLICK_BOUNDS.params) {
      cut++;
      continue;
    }
    const bounded = cutToBytes(value, CLICK_BOUNDS.valueBytes);
    if (bounded !== value) cut++;
    // defineProperty: a parameter named __proto__ is a key like any other, not the object's prototype.
    Object.defineProperty(params, name, { value: bounded, enumerable: true, writable: true, configurable: true });
    kept++;
  }
  return { params, cut };
}

/** The `_fbc` and `_fbp` cookies Meta's pixel sets on the landing domain, when the request carries them. */
export function metaCookies(cookieHeader: string | null): { fbc?: string; fbp?: string } {
  const out: { fbc?: string; fbp?: string } = {};
  for (const part of (cookieHeader ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    const key = name === "_fbc" ? "fbc" : name === "_fbp" ? "fbp" : null;
    if (!key || out[key] !== undefined) continue;
    let value = part.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // kept as sent
    }
    if (value !== "") out[key] = cutToBytes(value, CLICK_BOUNDS.valueBytes);
  }
  return out;
}

/**
 * Meta's fbc built on the server (reference/ad-platforms.md §1.7): `fb.1.<ms>.<fbclid>`, the
 * subdomain index 1, the time the fbclid was first seen in epoch milliseconds, the fbclid as it
 * came (case-sensitive: never lowercased).
 */
export const fbcFromFbclid = (fbclid: string, seenAtMs: number) => `fb.1.${Math.floor(seenAtMs)}.${fbclid}`;

/**
 * User agents of the link-preview fetchers of messengers, social networks and search engines: they
 * open a link to draw its preview (or check an ad's landing page), not because a person clicked.
 */
const PREVIEW_AGENTS = [
  "telegrambot", "facebookexternalhit", "facebot", "meta-externalagent", "meta-externalfetcher", "twitterbot", "slackbot",
  "slack-imgproxy", "whatsapp", "linkedinbot", "discordbot", "skypeuripreview", "vkshare", "redditbot", "pinterestbot",
  "embedly", "iframely", "googlebot", "adsbot-google", "google-inspectiontool", "googleother", "bingbot", "bingpreview",
  "applebot", "yandexbot", "yandexmetrika", "yandexdirect", "baiduspider", "duckduckbot", "snap url preview", "mastodon",
  "bytespider", "tiktokspider", "petalbot", "line-poker", "kakaotalk-scrap", "odklbot", "mail.ru_bot",
];
/** A browser never names a URL in its user agent; a bot, crawler or preview fetcher usually does (`+https://…`). */
const SELF_DESCRIBED_BOT = /(bot|crawler|spider|preview|fetcher)[^a-z]/i;

/**
 * Whether a request comes from a link-preview crawler (a click link posted in a chat is fetched by
 * the chat's server to draw its card): such a request records no click. An in-app browser (a
 * person in Facebook's, Instagram's or TikTok's app: `FBAN`, `Instagram`, `musical_ly`) is no
 * crawler.
 */
export function isLinkPreviewCrawler(userAgent: string | null): boolean {
  if (!userAgent) return false;
  const ua = userAgent.toLowerCase();
  if (PREVIEW_AGENTS.some((name) => ua.includes(name))) return true;
  return /https?:\/\//.test(ua) && SELF_DESCRIBED_BOT.test(`${ua} `);
}

/**
 * The lead's click (`{click}`) when its Start carried a click token: the tracker's click id the
 * click link received in the campaign's `click_link.click_param` (a tracker in front of the link:
 * its long click id no longer has to fit the deep link), else the token itself — tgcpa's own id of
 * that click, so the lead counts as attributed, `GET /api/leads?click=` finds it, and a `{click}`
 * template sends something a receiver can match against the click record.
 */
export function leadClickOf(token: string, params: Readonly<Record<string, string>>, clickParam: string | null): string {
  const carried = clickParam !== null && Object.hasOwn(params, clickParam) ? params[clickParam]!.trim() : "";
  return carried || token;
}
