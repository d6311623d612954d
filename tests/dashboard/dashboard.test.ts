/**
 * The dashboard in a real headless Chromium against the source server: headline numbers equal
 * `report --json`, a new report shows in the live feed, a search opens a message with its parts,
 * the page asks for the API token, and no request leaves the server's own origin.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer, type RunningServer } from "../../src/server/server.ts";
import { chromiumMissing, launchChromium, openDashboard, sampleTraffic } from "../../scripts/lib/dashboard.ts";
import { routeeReport, runCli, tempDir } from "../helpers/utils.ts";

const missing = chromiumMissing();
// Loud: CI counts a skip as a failure.
if (missing) console.warn(`dashboard.test.ts: SKIPPED, the browser tests did not run: ${missing}`);

const API_TOKEN = "dashboard-token-0123456789";

describe.skipIf(missing !== null)("the dashboard in Chromium", () => {
  const dir = tempDir("dashboard-");
  const log = join(dir, "dashboard.log");
  let server: RunningServer;
  let browser: Browser;
  let origin: string;
  const send = (report: Record<string, unknown>) =>
    fetch(`http://127.0.0.1:${server.port}/sms/status`, { method: "POST", body: JSON.stringify(report) });

  beforeAll(async () => {
    server = await startServer(parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--api-port", "0", "--api-token", API_TOKEN], {}));
    origin = `http://127.0.0.1:${server.apiPort}`;
    for (const report of sampleTraffic()) expect((await send(report)).status).toBe(200);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the headline numbers of `report --json`, the live feed, a searched message, with no request elsewhere", async () => {
    const { page, foreign } = await openDashboard(browser, origin, API_TOKEN, 1280);
    const cli = runCli(["report", "--json", "--since", "24h", "--log", log]);
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout);
    expect(report.messages).toBe(61);
    const shown = async (id: string) => (await page.locator(id).textContent())!.replace(/[,\s%]/g, "");
    expect(await shown("#h-messages")).toBe(String(report.messages));
    expect(await shown("#h-delivered")).toBe(String(report.delivered));
    expect(await shown("#h-failed")).toBe(String(report.failed));
    expect(await shown("#h-pending")).toBe(String(report.pending));
    expect(await shown("#h-rate")).toBe((report.deliveryRate * 100).toFixed(1));
    expect(Number(await shown("#h-cost"))).toBeCloseTo(report.cost, 4);
    const byCountry = JSON.parse(runCli(["report", "--json", "--since", "24h", "--by", "country", "--log", log]).stdout);
    expect(await page.locator("#breakdown tbody tr").count()).toBe(byCountry.groups.length);
    expect(await page.locator("#breakdown tbody tr:first-child td:first-child").textContent()).toBe(byCountry.groups[0].key);
    expect(await page.locator("#chart-volume canvas").count()).toBeGreaterThan(0);
    expect(await page.locator("#health").textContent()).toContain("store writableyes");

    // Live: the stream is open; a report posted now shows within a second.
    await page.waitForSelector("#live-state:text('connected')");
    expect((await send(routeeReport({ messageId: "live-one", smsId: "live-one-1" }))).status).toBe(200);
    await page.waitForSelector("#feed tbody tr:first-child:has-text('live-one')", { timeout: 1000 });

    await page.locator("#query").fill("demo-long-2");
    await page.locator("#search button").click();
    await page.waitForSelector("#m-parts tbody tr");
    expect(await page.locator("#m-parts tbody tr").count()).toBe(2);
    expect(await page.locator("#m-reports tbody tr").count()).toBe(3);
    expect(await page.locator("#m-reports").textContent()).toContain("superseded by Delivered");

    await page.screenshot({ path: join(dir, "desktop.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction("document.documentElement.scrollWidth <= 390");
    await page.screenshot({ path: join(dir, "phone.png"), fullPage: true });
    // The page is all usable at phone width: nothing wider than the screen but the scrolling tables.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    expect(foreign).toEqual([]);
  }, 30_000);

  it("refuses the data without the token: the API answers 401, the page itself holds no data", async () => {
    expect((await fetch(`${origin}/v1/report`)).status).toBe(401);
    expect((await fetch(`${origin}/v1/events`)).status).toBe(401);
    expect((await fetch(`${origin}/dashboard`)).status).toBe(200);
  });
});
