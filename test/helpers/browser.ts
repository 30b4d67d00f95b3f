// A real browser for the dashboard tests: Debian's Chromium (apt-get install -y chromium; .ci/run
// installs it) driven by playwright-core, headless, with a fresh profile. Every request a page
// makes is recorded, and any that would leave the service's origin is aborted and reported.
import { chromium, type BrowserContext } from "playwright-core";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = process.env.TGCPA_CHROMIUM ?? "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** Every URL the pages requested, in order. */
  requests: string[];
  /** Requests to anywhere but `origin` (aborted). */
  foreign: string[];
  close(): Promise<void>;
}

export async function openBrowser(origin: string): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set TGCPA_CHROMIUM)`);
  const profile = mkdtempSync(join(tmpdir(), "tgcpa-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    viewport: { width: 1280, height: 900 },
    timezoneId: "UTC",
  });
  const requests: string[] = [];
  const foreign: string[] = [];
  // As on an offline server: anything not from the service fails.
  await context.route("**/*", (route) => {
    const url = route.request().url();
    requests.push(url);
    if (url.startsWith(`${origin}/`) || url === origin) return route.continue();
    foreign.push(url);
    return route.abort("internetdisconnected");
  });
  return {
    context, requests, foreign,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
