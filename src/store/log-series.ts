/**
 * `series` from JSONL log files: each status callback's `receivedAt` cut to its bucket
 * (status/series.ts). Only the fields before the report body are parsed.
 */
import { parseStatusFields, readLines, receivedAtOf } from "../log/reader.ts";
import { inChannel } from "../status/report.ts";
import { normalise } from "./log-report.ts";
import { seriesDefaults, SeriesTally, STEP_CHARS, type Series, type SeriesQuery } from "../status/series.ts";

/** @example await buildSeries(["sms-status.log"], { since: "2024-05-01T00:00:00.000Z", step: "minute" }) */
export async function buildSeries(files: string[], options: SeriesQuery = {}): Promise<Series> {
  const query = seriesDefaults(options);
  const { since, until, channel } = query;
  const chars = STEP_CHARS[query.step];
  const tally = new SeriesTally(query);
  await readLines(files, (lines) => {
    for (const line of lines) {
      const raw = receivedAtOf(line);
      // Skipped on the raw field, before any parse.
      if (raw !== null && ((since !== null && raw < since) || (until !== null && raw >= until))) continue;
      const entry = parseStatusFields(line);
      if (entry === null || entry.kind !== "dlr" || !inChannel(entry.channel ?? null, channel)) continue;
      const at = normalise(entry.receivedAt);
      if ((since !== null && at < since) || (until !== null && at >= until)) continue;
      tally.add(at.slice(0, chars), entry.outcome, entry.detailedStatus ?? entry.status);
    }
  });
  return tally.finish();
}

