/**
 * The dashboard in a real browser, for its test and the screenshot script: Debian's Chromium driven
 * by playwright-core, with every request that is not to the server itself blocked and recorded,
 * and sample traffic that fills every part of the page.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { routeeReport, routeeStatus } from "./samples.ts";

export const CHROMIUM = "/usr/bin/chromium";
/** Without these the browser keeps trying to reach the internet (there is none here). */
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Why the browser cannot run here, or null. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/**
 * A page whose requests may go only to `origin`: anything else is aborted and listed in `foreign`.
 * The token is entered in the page's own dialog the first time it asks.
 */
export async function openDashboard(browser: Browser, origin: string, token: string, width: number): Promise<{ page: Page; foreign: string[] }> {
  const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
  const foreign: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`)) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  await page.goto(`${origin}/dashboard`);
  await page.locator("#token").fill(token);
  await page.locator("#login-form button").click();
  await page.waitForSelector("body[data-ready]");
  return { page, foreign };
}

/** Reports for a varied hour: delivered, failed by several reasons, pending, two-part, several countries. */
export function sampleTraffic(now = Date.now()): Record<string, unknown>[] {
  const countries: [string, string][] = [["GR", "Cosmote"], ["GR", "Vodafone"], ["CY", "Cyta"], ["DE", "Telekom"], ["IT", "TIM"]];
  const failures = ["Expired", "Rejected", "Blacklisted", "Unknown subscriber"];
  const reports: Record<string, unknown>[] = [];
  for (let n = 0; n < 60; n++) {
    const [country, operator] = countries[n % countries.length]!;
    const at = new Date(now - (60 - n) * 50_000).toISOString().replace(/\.\d+Z$/, "Z");
    const status = n % 7 === 3 ? routeeStatus("Failed", at, failures[n % failures.length]) : n % 9 === 5 ? routeeStatus("Sent", at) : routeeStatus("Delivered", at);
    reports.push(routeeReport({ messageId: `demo-${n}`, smsId: `demo-${n}-1`, to: `+3069${String(10_000_000 + n * 7919).slice(0, 8)}`, country, operator, label: n % 3 ? "otp" : "promo", campaignTrackingId: n % 4 ? null : "spring-sale", status }));
  }
  // A two-part message whose first part was reported Sent, then Delivered.
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, "Z");
  reports.push(routeeReport({ messageId: "demo-long", smsId: "demo-long-1", part: 1, parts: 2, status: routeeStatus("Sent", at) }));
  reports.push(routeeReport({ messageId: "demo-long", smsId: "demo-long-1", part: 1, parts: 2, status: routeeStatus("Delivered", at) }));
  reports.push(routeeReport({ messageId: "demo-long", smsId: "demo-long-2", part: 2, parts: 2, status: routeeStatus("Delivered", at) }));
  return reports;
}
