// One click of the click link: what the request brought, within the bounds (domain/click-link.ts),
// written through the intake in one write, and the Start payload its token goes out in.
import type { CampaignEntry } from "../config/runtime.ts";
import {
  CLICK_BOUNDS, CLICK_TOKEN_BYTES, boundClickParams, clickToken, cutToBytes, fbcFromFbclid, metaCookies,
} from "../domain/click-link.ts";
import type { PeerSource } from "../http/client-address.ts";
import { NO_EFFECTS, type Intake } from "../intake/intake.ts";
import type { Clock } from "../lib/clock.ts";
import type { NewClick } from "../storage/rows.ts";

export interface RecordClickDeps {
  intake: Intake;
  clock: Clock;
  clientAddress(request: Request, server: PeerSource): string | null;
  cameOverHttps(request: Request, server: PeerSource): boolean;
  /** server.public_url: the landing URL is the click link's URL as the visitor opened it. */
  publicUrl(): string | null;
  /** Random bytes for the token (crypto.getRandomValues). */
  randomBytes?: (n: number) => Uint8Array;
}

const header = (request: Request, name: string, max: number) => {
  const value = request.headers.get(name);
  return value ? cutToBytes(value, max) : null;
};

/** The click link's URL as the visitor opened it: under server.public_url when set, else as the request reached this service. */
export function landingUrlOf(request: Request, https: boolean, publicUrl: string | null): string {
  const start = request.url.indexOf("/", request.url.indexOf("//") + 2);
  const pathAndQuery = start === -1 ? "/" : request.url.slice(start);
  const origin = publicUrl ?? `${https ? "https" : "http"}://${request.headers.get("host") ?? new URL(request.url).host}`;
  return cutToBytes(`${origin}${pathAndQuery}`, CLICK_BOUNDS.urlBytes);
}

/** The click row of a request (pure but for the token): its parameters, Meta's cookies or fbc, address, agent, referrer, URL, time. */
export function clickOf(request: Request, server: PeerSource, campaign: CampaignEntry, token: string, now: number, deps: Omit<RecordClickDeps, "intake" | "clock">): NewClick {
  const q = request.url.indexOf("?");
  const { params, cut } = boundClickParams(q === -1 ? "" : request.url.slice(q + 1).split("#")[0]!);
  const cookies = metaCookies(request.headers.get("cookie"));
  const fbclid = Object.hasOwn(params, "fbclid") ? params.fbclid! : "";
  return {
    token, campaignId: campaign.id, params,
    fbc: cookies.fbc ?? (fbclid ? fbcFromFbclid(fbclid, now) : null),
    fbp: cookies.fbp ?? null,
    ip: deps.clientAddress(request, server),
    userAgent: header(request, "user-agent", CLICK_BOUNDS.valueBytes),
    referrer: header(request, "referer", CLICK_BOUNDS.urlBytes),
    landingUrl: landingUrlOf(request, deps.cameOverHttps(request, server), deps.publicUrl()),
    cut, createdAt: now,
  };
}

/** Records one click (one write, through the intake); resolves to its token once it is on the disk. */
export async function recordClick(deps: RecordClickDeps, request: Request, server: PeerSource, campaign: CampaignEntry): Promise<string> {
  const token = clickToken((deps.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n))))(CLICK_TOKEN_BYTES));
  const now = deps.clock.now();
  const row = clickOf(request, server, campaign, token, now, deps);
  await deps.intake(async (tx) => {
    await tx.clicks.insert(row);
    return { effects: NO_EFFECTS };
  });
  return token;
}
