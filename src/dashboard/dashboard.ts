/**
 * The dashboard's browser code: everything it shows comes from the read API on the same origin
 * (`/v1/report`, `/v1/series`, `/v1/health`, `/v1/messages`, `/v1/events`), so its numbers are
 * the API's. The token is asked once and kept in sessionStorage; the live stream is read with
 * fetch (EventSource cannot send an Authorization header, and a token in the URL would end up
 * in logs and history).
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const TOKEN_KEY = "sms-status-api-token";
const BUDGET_SECONDS = 2;
const FEED_ROWS = 100;
const CHANNELS = ["sms", "viber", "whatsapp", "voice", "verification", "failover"];

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const el = (tag: string, text = "", className = "") => {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) node.className = className;
  return node;
};
const row = (cells: (string | HTMLElement)[], numeric: number[] = []) => {
  const tr = document.createElement("tr");
  cells.forEach((cell, i) => {
    const td = typeof cell === "string" ? el("td", cell) : cell;
    if (numeric.includes(i)) td.classList.add("num");
    tr.append(td);
  });
  return tr;
};
const int = (n: number) => n.toLocaleString("en");
const pct = (r: number | null) => (r === null ? "–" : `${(r * 100).toFixed(1)} %`);
const money = (n: number | null) => (n === null ? "–" : n.toLocaleString("en", { maximumFractionDigits: 4 }));
const time = (iso: string) => iso.replace("T", " ").replace(/\.\d+Z$/, "Z");

class Unauthorized extends Error {}

function headers(): HeadersInit {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** GET an API path as JSON; a 401 asks for the token and tries once more. */
async function api<T = any>(path: string, retried = false): Promise<T> {
  const res = await fetch(path, { headers: headers() });
  if (res.status === 401 && !retried) {
    await askToken();
    return api(path, true);
  }
  if (res.status === 401) throw new Unauthorized("the API token was refused");
  const body: any = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { status: res.status, code: body.error });
  return body as T;
}

let asking: Promise<void> | null = null;
function askToken(): Promise<void> {
  asking ??= new Promise<void>((done) => {
    const dialog = $<HTMLDialogElement>("login");
    $("login-form").onsubmit = () => {
      sessionStorage.setItem(TOKEN_KEY, $<HTMLInputElement>("token").value.trim());
      asking = null;
      done();
    };
    dialog.showModal();
  });
  return asking;
}

function showError(message: string | null): void {
  const box = $("error");
  box.hidden = message === null;
  box.textContent = message ?? "";
}

/** The chosen window as API parameters, and the step that suits it. */
function chosenWindow(): { since: string; until: string | null; step: "minute" | "hour" | "day" } {
  const range = $<HTMLSelectElement>("range").value;
  if (range === "custom") {
    const since = $<HTMLInputElement>("since").value;
    const until = $<HTMLInputElement>("until").value;
    const from = since ? new Date(since) : new Date(Date.now() - 86_400_000);
    const to = until ? new Date(until) : null;
    const span = (to?.getTime() ?? Date.now()) - from.getTime();
    return { since: from.toISOString(), until: to?.toISOString() ?? null, step: span <= 6 * 3_600_000 ? "minute" : span <= 8 * 86_400_000 ? "hour" : "day" };
  }
  const span = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000 }[range]!;
  return { since: new Date(Date.now() - span).toISOString(), until: null, step: range === "1h" ? "minute" : "hour" };
}

function query(extra: Record<string, string> = {}): string {
  const { since, until } = chosenWindow();
  const params = new URLSearchParams({ since, channel: $<HTMLSelectElement>("channel").value, ...extra });
  if (until) params.set("until", until);
  return params.toString();
}

async function loadHeadline(): Promise<void> {
  const report = await api(`/v1/report?${query()}`);
  $("h-messages").textContent = int(report.messages);
  $("h-delivered").textContent = int(report.delivered);
  $("h-failed").textContent = int(report.failed);
  $("h-pending").textContent = int(report.pending);
  $("h-rate").textContent = pct(report.deliveryRate);
  $("h-cost").textContent = money(report.cost);
}

/** The answer-time histogram against Routee's 2 s: share within it, and the bucket p95 falls in. */
function showAck(ack: { count: number; sumSeconds: number; buckets: { le: number; count: number }[] }): void {
  if (ack.count === 0) {
    $("h-ack").textContent = "–";
    $("h-ack-detail").textContent = "no answers since start";
    return;
  }
  const within = ack.buckets.find((b) => b.le === BUDGET_SECONDS)?.count ?? 0;
  const p95 = ack.buckets.find((b) => b.count >= ack.count * 0.95)?.le;
  $("h-ack").textContent = pct(within / ack.count);
  $("h-ack-detail").textContent = `p95 ≤ ${p95 === undefined ? "> 5" : p95} s · mean ${((ack.sumSeconds / ack.count) * 1000).toFixed(1)} ms · ${int(ack.count)} answers`;
}

async function loadHealth(): Promise<void> {
  const health = await api("/v1/health");
  showAck(health.ack);
  const list = $("health");
  list.replaceChildren();
  const item = (name: string, value: string, className = "") => list.append(el("dt", name), el("dd", value, className));
  item("store writable", health.logWritable === null ? "–" : health.logWritable ? "yes" : "NO", health.logWritable === false ? "failed" : "delivered");
  item("duplicate keys held", int(health.duplicateKeys));
  const final = Object.entries(health.messagesFinal as Record<string, Record<string, number>>)
    .map(([outcome, byChannel]) => `${outcome} ${int(Object.values(byChannel).reduce((a, b) => a + b, 0))}`)
    .join(" · ");
  item("messages final since start", final || "none");
  if (health.forwarders.length === 0) item("forwarding", "off");
  for (const f of health.forwarders)
    item(`forwarding to ${f.url}`, `${f.active ? "active" : "stopped (410)"} · lag ${f.lagSeconds.toFixed(0)} s · ${int(f.pending)} waiting · ${int(f.failures)} failures`);
}

let volumePlot: uPlot | null = null;
let failurePlot: uPlot | null = null;
const PALETTE = ["#b42318", "#c4320a", "#8a5a00", "#6941c6", "#155eef", "#0e7090", "#4a5568"];

function chartWidth(id: string): number {
  return Math.max(280, $(id).clientWidth);
}

async function loadSeries(): Promise<void> {
  const { step, since, until } = chosenWindow();
  // The x axis is the whole window, however few buckets hold callbacks.
  const x = { time: true, range: [Date.parse(since) / 1000, (until ? Date.parse(until) : Date.now()) / 1000] as [number, number] };
  const series = await api(`/v1/series?${query({ step })}`);
  $("step-note").textContent = `status callbacks per ${step}`;
  const buckets: any[] = series.buckets;
  const xs = buckets.map((b) => Date.parse(b.at) / 1000);
  const rate = buckets.map((b) => (b.delivered + b.failed === 0 ? null : (100 * b.delivered) / (b.delivered + b.failed)));
  volumePlot?.destroy();
  volumePlot = new uPlot(
    {
      width: chartWidth("chart-volume"),
      height: 220,
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        { label: "callbacks", stroke: "#155eef", width: 2 },
        { label: "delivered", stroke: "#17803d", width: 1.5 },
        { label: "failed", stroke: "#b42318", width: 1.5 },
        { label: "delivery rate %", stroke: "#6941c6", width: 2, dash: [6, 4], scale: "%" },
      ],
      scales: { x, "%": { range: [0, 100] } },
      axes: [{}, { label: "callbacks" }, { side: 1, scale: "%", label: "rate %", grid: { show: false } }],
    },
    [xs, buckets.map((b) => b.reports), buckets.map((b) => b.delivered), buckets.map((b) => b.failed), rate],
    $("chart-volume"),
  );
  const reasons = [...new Set(buckets.flatMap((b) => Object.keys(b.failures)))].slice(0, PALETTE.length);
  failurePlot?.destroy();
  failurePlot = new uPlot(
    {
      width: chartWidth("chart-failures"),
      height: 200,
      cursor: { drag: { x: false, y: false } },
      series: [{}, ...reasons.map((r, i) => ({ label: r, stroke: PALETTE[i], width: 1.5 }))],
      scales: { x },
      axes: [{}, { label: "failed" }],
    },
    [xs, ...reasons.map((r) => buckets.map((b) => b.failures[r] ?? 0))],
    $("chart-failures"),
  );
}

let groups: any[] = [];
let sortKey = "messages";
let sortDir: 1 | -1 = -1;

async function loadBreakdown(): Promise<void> {
  const by = $<HTMLSelectElement>("by").value;
  if (by === "channel") {
    // One report per channel: the same code path as `report --json --channel X`.
    groups = (await Promise.all(CHANNELS.map(async (channel) => ({ ...(await api(`/v1/report?${query({ channel })}`)), key: channel })))).filter((g) => g.messages > 0);
  } else {
    groups = (await api(`/v1/report?${query({ by })}`)).groups ?? [];
  }
  renderBreakdown();
}

function renderBreakdown(): void {
  const sorted = [...groups].sort((a, b) => {
    const x = a[sortKey] ?? -1;
    const y = b[sortKey] ?? -1;
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
  });
  $("breakdown").querySelector("tbody")!.replaceChildren(
    ...sorted.map((g) => row([g.key, int(g.messages), int(g.delivered), int(g.failed), int(g.pending), pct(g.deliveryRate), money(g.cost)], [1, 2, 3, 4, 5, 6])),
  );
  for (const th of $("breakdown").querySelectorAll("th")) {
    if (th.dataset.key === sortKey) th.setAttribute("aria-sort", sortDir === 1 ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  }
}

/** Everything that depends on the window; each part fails on its own. */
async function refresh(): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    [loadHeadline, loadSeries, loadBreakdown, loadHealth].map((load) =>
      load().catch((error: Error) => failures.push(error.message)),
    ),
  );
  showError(failures.length ? [...new Set(failures)].join("; ") : null);
}

// The live feed: the SSE stream read with fetch, so the token goes in a header.
let paused = false;
let lastEventId: string | null = null;

async function follow(): Promise<void> {
  for (;;) {
    try {
      const res = await fetch("/v1/events", { headers: { ...headers(), ...(lastEventId ? { "last-event-id": lastEventId } : {}) } });
      if (res.status === 401) {
        await askToken();
        continue;
      }
      if (!res.ok || !res.body) {
        $("live-state").textContent = `unavailable (${(await res.json().catch(() => ({}))).message ?? res.status})`;
        return;
      }
      $("live-state").textContent = "connected";
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let text = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        let cut: number;
        while ((cut = text.indexOf("\n\n")) >= 0) {
          onEvent(text.slice(0, cut));
          text = text.slice(cut + 2);
        }
      }
    } catch {}
    $("live-state").textContent = "reconnecting";
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function onEvent(block: string): void {
  let id: string | null = null;
  let data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("id: ")) id = line.slice(4);
    else if (line.startsWith("data: ")) data += line.slice(6);
  }
  if (id) lastEventId = id;
  if (!data || paused) return;
  const entry = JSON.parse(data);
  const wanted = $<HTMLSelectElement>("live-outcome").value;
  if (wanted && entry.outcome !== wanted) return;
  const body = $("feed").querySelector("tbody")!;
  const link = el("a", entry.messageId ?? entry.trackingId ?? "–") as HTMLAnchorElement;
  link.href = "#";
  link.onclick = (event) => {
    event.preventDefault();
    void openMessage(link.textContent!);
  };
  const idCell = el("td");
  idCell.append(link);
  body.prepend(row([time(entry.receivedAt), idCell, entry.to ?? "–", entry.status ?? entry.kind, el("td", entry.outcome, entry.outcome)]));
  while (body.rows.length > FEED_ROWS) body.deleteRow(-1);
}

/** The message, its parts, and every report in arrival order with what it did to its part. */
async function openMessage(id: string): Promise<void> {
  const section = $("message");
  section.hidden = false;
  $("m-id").textContent = id;
  $("m-list").replaceChildren();
  const partsBody = $("m-parts").querySelector("tbody")!;
  const reportsBody = $("m-reports").querySelector("tbody")!;
  partsBody.replaceChildren();
  reportsBody.replaceChildren();
  try {
    const found = await api(`/v1/messages/${encodeURIComponent(id)}?reports=1`);
    const m = found.message;
    $("m-summary").replaceChildren(
      m
        ? el("span", `${m.outcome} · ${m.status ?? "–"}${m.detailedStatus ? ` (${m.detailedStatus})` : ""} · ${m.parts} part(s) · cost ${money(m.cost)} · ${m.provider ?? ""} ${m.channel} · ${[m.country, m.operator, m.label].filter(Boolean).join(" · ")}`, m.outcome)
        : el("span", "no message status (only inbound or campaign callbacks name this id)"),
    );
    for (const p of m?.partStatuses ?? [])
      partsBody.append(row([String(p.part ?? "–"), p.key, el("td", p.status ?? "–", p.outcome), p.detailedStatus ?? "–", money(p.price), String(p.reports)], [4, 5]));
    const current = new Map<string, any>((m?.partStatuses ?? []).map((p: any) => [p.key, p]));
    const partOf = (r: any) => current.get(r.smsId ?? `#${r.part ?? 1}`);
    // The report that set a part's status is its last one with that arrival time and status.
    const setter = new Map<any, number>();
    found.reports.forEach((r: any, i: number) => {
      const part = partOf(r);
      if (part && part.receivedAt === r.receivedAt && part.status === r.status) setter.set(part, i);
    });
    for (const [i, r] of (found.reports as any[]).entries()) {
      const part = partOf(r);
      const at = part ? setter.get(part) : undefined;
      const isCurrent = at === i;
      const effect = at === undefined ? "–" : isCurrent ? "current" : i < at ? `superseded by ${part.status}` : `ignored: ${part.status} ranks higher`;
      reportsBody.append(row([time(r.receivedAt), String(r.part ?? "–"), el("td", r.status ?? r.kind, isCurrent ? r.outcome : "superseded"), r.detailedStatus ?? "–", effect]));
    }
  } catch (error: any) {
    $("m-summary").textContent = error.status === 404 ? "no callback names this id" : error.message;
  }
}

/** A phone number lists its messages (needs the database); anything else opens by id. */
async function search(text: string): Promise<void> {
  if (!/^\+?\d[\d ]{5,}$/.test(text)) return openMessage(text);
  const section = $("message");
  section.hidden = false;
  $("m-id").textContent = text;
  $("m-parts").querySelector("tbody")!.replaceChildren();
  $("m-reports").querySelector("tbody")!.replaceChildren();
  $("m-summary").textContent = "";
  try {
    const page = await api(`/v1/messages?${new URLSearchParams({ to: text.replace(/ /g, ""), channel: "all", limit: "20" })}`);
    const list = $("m-list");
    list.replaceChildren(el("p", page.messages.length ? "Messages to this number, newest first:" : "No message to this number."));
    for (const m of page.messages) {
      const link = el("a", `${m.messageId} · ${m.outcome}`) as HTMLAnchorElement;
      link.href = "#";
      link.onclick = (event) => {
        event.preventDefault();
        void openMessage(m.messageId);
      };
      list.append(link, document.createElement("br"));
    }
  } catch (error: any) {
    // The file log has no index by number: try the text as an id instead.
    if (error.code === "needs_database") return openMessage(text);
    $("m-summary").textContent = error.message;
  }
}

$("range").onchange = () => {
  $("custom").hidden = $<HTMLSelectElement>("range").value !== "custom";
  void refresh();
};
$("channel").onchange = () => void refresh();
$("by").onchange = () => void loadBreakdown().catch((e: Error) => showError(e.message));
$("window").onsubmit = (event) => {
  event.preventDefault();
  void refresh();
};
$("search").onsubmit = (event) => {
  event.preventDefault();
  const text = $<HTMLInputElement>("query").value.trim();
  if (text) void search(text);
};
$("m-close").onclick = () => ($("message").hidden = true);
$("pause").onclick = () => {
  paused = !paused;
  $("pause").textContent = paused ? "Resume" : "Pause";
};
for (const th of $("breakdown").querySelectorAll<HTMLElement>("th"))
  th.onclick = () => {
    if (sortKey === th.dataset.key) sortDir = sortDir === 1 ? -1 : 1;
    else [sortKey, sortDir] = [th.dataset.key!, th.dataset.key === "key" ? 1 : -1];
    renderBreakdown();
  };

// Charts follow the page's width (a phone turned, a window resized).
window.addEventListener("resize", () => {
  volumePlot?.setSize({ width: chartWidth("chart-volume"), height: 220 });
  failurePlot?.setSize({ width: chartWidth("chart-failures"), height: 200 });
});

void refresh().then(() => document.body.setAttribute("data-ready", "1"));
void follow();
// Figures stay current without a reload; charts are redrawn only on a change of window.
setInterval(() => void Promise.all([loadHeadline(), loadHealth()]).catch(() => {}), 10_000);
