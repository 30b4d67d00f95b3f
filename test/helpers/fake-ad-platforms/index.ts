// Fake ad platforms on 127.0.0.1, one per platform, that answer in that platform's words
// (shared/reference/ad-platforms.md) and record what they received.
export { FakeMetaCapi, META_ERRORS, type MetaErrorName, type MetaReceivedEvent } from "./meta.ts";
export { FakeTikTokEvents, TIKTOK_ERRORS, type TikTokErrorName, type TikTokReceivedEvent } from "./tiktok.ts";
export { FakeGa4, type Ga4Request } from "./ga4.ts";
export { FakeYandexMetrica, YANDEX_ERRORS, type YandexErrorName, type YandexUpload } from "./yandex.ts";
