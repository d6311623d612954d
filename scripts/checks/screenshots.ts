/**
 * `npm run screenshots`: regenerate docs/dashboard-desktop.png (1280 wide) and
 * docs/dashboard-phone.png (390 wide) from the source server with sample traffic, in Debian's Chromium.
 */
import { join } from "node:path";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseServeConfig } from "../../src/cli/serve-flags.ts";
import { startServer } from "../../src/server/server.ts";
import { reportLine } from "../lib/samples.ts";
import { chromiumMissing, launchChromium, openDashboard, sampleTraffic } from "../lib/dashboard.ts";

const missing = chromiumMissing();
if (missing) {
  console.error(`screenshots: ${missing}`);
  process.exit(1);
}
const docs = join(import.meta.dir, "../../docs");
const log = join(mkdtempSync(join(tmpdir(), "screenshots-")), "sms-status.log");
const token = "screenshot-token-0123456789";
// An hour of history, written as the server writes it, so the charts have a shape.
const start = Date.now() - 3_600_000;
writeFileSync(log, Array.from({ length: 6 }, (_, round) => sampleTraffic(start).map((report, n) => reportLine({ ...report, messageId: `h${round}-${n}`, smsId: `h${round}-${n}-1` }, new Date(start + (round * 60 + n) * 9_500)))).flat().join(""));
const server = await startServer(parseServeConfig(["--host", "127.0.0.1", "--port", "0", "--log", log, "--api-port", "0", "--api-token", token], {}));
const post = (report: unknown) => fetch(`http://127.0.0.1:${server.port}/sms/status`, { method: "POST", body: JSON.stringify(report) });
for (const report of sampleTraffic()) await post(report);
const browser = await launchChromium();
try {
  for (const [name, width] of [["desktop", 1280], ["phone", 390]] as const) {
    const { page, foreign } = await openDashboard(browser, `http://127.0.0.1:${server.apiPort}`, token, width);
    await page.selectOption("#range", "1h");
    await page.waitForSelector("#live-state:text('connected')");
    for (const report of sampleTraffic().slice(0, 6)) await post(report);
    await page.waitForFunction("document.querySelectorAll('#feed tbody tr').length >= 6");
    await page.locator("#query").fill("demo-long");
    await page.locator("#search button").click();
    await page.waitForSelector("#m-parts tbody tr");
    await page.screenshot({ path: join(docs, `dashboard-${name}.png`), fullPage: true });
    if (foreign.length > 0) throw new Error(`the page tried to reach ${foreign.join(", ")}`);
    console.log(`screenshots: wrote docs/dashboard-${name}.png`);
  }
} finally {
  await browser.close();
  await server.stop();
}
