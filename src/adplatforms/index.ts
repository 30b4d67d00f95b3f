// The ad-platform destinations (SPEC §9, reference/ad-platforms.md). Google Ads' click-conversion
// upload is left out on purpose (§5: OAuth, a developer token, and no new adopters since June 2026).
import { ga4 } from "./ga4.ts";
import { metaCapi } from "./meta.ts";
import type { AdPlatform } from "./platform.ts";
import { tiktokEvents } from "./tiktok.ts";
import { yandexMetrica } from "./yandex.ts";

export const AD_PLATFORMS: readonly AdPlatform[] = [metaCapi, tiktokEvents, ga4, yandexMetrica];

export const adPlatformByName = (name: string) => AD_PLATFORMS.find((p) => p.name === name);

/** The param that holds a platform's secret (access_token, api_secret, oauth_token). */
export const secretParam = (platform: AdPlatform) => platform.params.find((p) => p.secret)!.name;

/**
 * What an ad row's stored verdict names: `<preset>@<destination>` (`meta-capi@fb`). A preset name
 * has no `@`, so the destination is everything after the first one.
 */
export function adTarget(verdict: string | null | undefined): { platform: AdPlatform; destination: string } | null {
  const at = verdict?.indexOf("@") ?? -1;
  if (at <= 0) return null;
  const platform = adPlatformByName(verdict!.slice(0, at));
  return platform ? { platform, destination: verdict!.slice(at + 1) } : null;
}

export const adVerdictName = (platform: AdPlatform, destination: string) => `${platform.name}@${destination}`;
