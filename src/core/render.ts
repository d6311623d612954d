/**
 * The log entry's two renderings.
 *
 * JSONL is the default and the format every reader in this project analyses. `text` reproduces
 * the wording and line structure of Routee's original PHP recipe so that whatever parsed that
 * file keeps working. In both, a field value can never break a line or forge another entry.
 */
import type { LogEntry } from "./entry.ts";
import { escapeChar, escapeControls } from "./escape.ts";

export type LogFormat = "jsonl" | "text";
export const LOG_FORMATS: readonly LogFormat[] = ["jsonl", "text"];

/**
 * One JSON object on one line, newline-terminated. With `raw`, the text the report arrived as, that
 * text is the `report` field as is (it parsed as JSON, so it is valid there): the body exactly as
 * received, and no second serialisation of it on the hot path. A raw body spread over several
 * lines is serialised again instead.
 */
export function renderJsonl(entry: LogEntry, raw?: string): string {
  if (raw !== undefined && entry.error === undefined && raw.indexOf("\n") < 0 && raw.indexOf("\r") < 0) {
    // `report` is the last field: serialise the rest and close the object with the raw text.
    const report = entry.report;
    entry.report = undefined;
    const head = JSON.stringify(entry);
    entry.report = report;
    const line = head.slice(0, -1) + ',"report":' + raw + "}\n";
    // Only non-ASCII text, or a \u escape that parsing turned into a character, can bring one.
    return raw.indexOf("\\u") < 0 && isAscii(raw) ? line : escapeBreakers(line);
  }
  return escapeBreakers(JSON.stringify(entry) + "\n");
}

// JSON.stringify escapes C0 controls, CR and LF, but leaves C1 controls (NEL, U+0085, is a line
// break to some readers) and U+2028/U+2029 raw; inside JSON strings, escaping them is lossless.
const HAS_BREAKER = /[\u0080-\u009f\u2028\u2029]/;
const BREAKERS = /[\u0080-\u009f\u2028\u2029]/g;

function escapeBreakers(line: string): string {
  return HAS_BREAKER.test(line) ? line.replace(BREAKERS, escapeChar) : line;
}

/** Every UTF-16 unit is one UTF-8 byte: no character outside ASCII (counted natively, fast). */
function isAscii(text: string): boolean {
  return Buffer.byteLength(text, "utf8") === text.length;
}

/** A value as PHP's string concatenation would print it (null and missing print nothing). */
function textValue(value: unknown): string {
  if (value === null || value === undefined) return "";
  const s = typeof value === "string" ? value : typeof value === "number" ? String(value) : JSON.stringify(value);
  return escapeControls(s);
}

/** The price as it appeared in the report (`"0.0360"` stays `0.0360`), as the PHP script printed it. */
function priceAsSent(entry: LogEntry): unknown {
  const report = entry.report as { price?: unknown } | null;
  return report && typeof report === "object" && report.price !== undefined ? report.price : entry.price;
}

/** What a status report on another channel is about, in a sentence. */
const CHANNEL_NOUNS: Record<string, string> = {
  viber: "Viber message",
  whatsapp: "WhatsApp message",
  voice: "voice call",
  verification: "verification",
};

/**
 * The original recipe's lines for SMS delivery reports:
 * `Your message to <to> (message id <id>) was DELIVERED.` + `The cost was <price>`, the same with
 * FAILED for every failed outcome, `Your message to <to> has a status of: <name>` otherwise. Every
 * other callback is one line that says what it is (`This is not a delivery receipt` for objects
 * that are nothing known).
 */
export function renderText(entry: LogEntry): string {
  if (entry.kind === "rejected") {
    const why = entry.error ? `${entry.error.reason}: ${entry.error.message}` : "rejected";
    return `Rejected callback (${textValue(why)}): ${textValue(entry.report)}\n`;
  }
  if (entry.kind === "inbound") {
    const channel = entry.channel === "sms" || entry.channel === null ? "SMS" : CHANNEL_NOUNS[entry.channel] ?? entry.channel;
    const text = (entry.report as { message?: unknown } | null)?.message;
    return (
      `Inbound ${channel} from ${textValue(entry.from)} to ${textValue(entry.to)} (message id ${textValue(entry.messageId)})` +
      (typeof text === "string" ? `: ${textValue(text)}\n` : "\n")
    );
  }
  if (entry.kind === "campaign")
    return `Campaign ${textValue(entry.campaignName)} (tracking id ${textValue(entry.trackingId)}) is ${textValue(entry.status)}\n`;
  if (entry.channel === "failover")
    return `Failover flow ${textValue(entry.trackingId)} has a status of: ${textValue(entry.status)}\n`;
  if (entry.kind !== "dlr") return "This is not a delivery receipt\n";
  const to = textValue(entry.to);
  const noun = entry.channel === null ? undefined : CHANNEL_NOUNS[entry.channel];
  if (noun !== undefined)
    return `Your ${noun} to ${to} (id ${textValue(entry.messageId ?? entry.trackingId)}) has a status of: ${textValue(entry.status)}\n`;
  if (entry.outcome === "delivered" || entry.outcome === "failed") {
    const verb = entry.outcome === "delivered" ? "DELIVERED" : "FAILED";
    return (
      `Your message to ${to} (message id ${textValue(entry.messageId)}) was ${verb}.\n` +
      `The cost was ${textValue(priceAsSent(entry))}\n`
    );
  }
  return `Your message to ${to} has a status of: ${textValue(entry.status)}\n`;
}

export const RENDERERS: Record<LogFormat, (entry: LogEntry, raw?: string) => string> = {
  jsonl: renderJsonl,
  text: renderText,
};
