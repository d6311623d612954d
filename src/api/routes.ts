/**
 * The read API: a message's status, a page of messages, the report, and the live stream, as an
 * Elysia plugin. The standalone server serves it on its own listener (`--api-port`, loopback by
 * default, a Bearer token of its own); the plugin can mount it in a host app under a prefix,
 * behind the host's own auth.
 */
import { Elysia } from "elysia";
import { presentedToken, tokenMatches } from "../http/access.ts";
import { answer } from "../http/answers.ts";
import type { StatusReader } from "../store/store.ts";
import { eventStream, positionOf, type EventStreamOptions } from "./events.ts";
import { apiDocument } from "./openapi.ts";
import { encodeCursor, eventFilter, messageListQuery, QueryError, reportQuery, seriesQuery } from "./query.ts";

export interface StatusApiOptions {
  reader: StatusReader;
  /** The JSONL log the live stream follows; without it `/v1/events` answers 501. */
  log?: string;
  /** A Bearer token every request must carry (the server's `--api-token`). */
  token?: string;
  /** Where the routes go in a host app. @default "" */
  prefix?: string;
  events?: EventStreamOptions;
  /** Live figures for `/v1/health` (the server passes its metrics' `health()`); without it, 501. */
  health?: () => unknown;
}

const NEEDS_DATABASE = () =>
  answer(501, { error: "needs_database", message: "this answer needs the message database (start the server without --no-db)" });

/** Turn what a handler throws into an answer: a bad query is 400, anything else 500 without details. */
async function answering(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof QueryError) return answer(400, { error: "invalid_query", message: error.message });
    console.error("sms-status: the read API failed:", error);
    return answer(500, { error: "internal", message: "internal error" });
  }
}

/** `?reports=1`, without parsing a URL that has no query. */
function wantsReports(url: string): boolean {
  const query = url.indexOf("?");
  return query >= 0 && new URLSearchParams(url.slice(query + 1)).get("reports") === "1";
}

export function statusApi(options: StatusApiOptions) {
  const { reader, log, token } = options;
  const prefix = (options.prefix ?? "").replace(/\/+$/, "");
  const tooBig = () => reader.scansTooMuch?.() === true;
  return new Elysia({ name: "elysia-sms-status/api", seed: prefix })
    .onBeforeHandle({ as: "scoped" }, function requireApiToken({ request }) {
      if (token !== undefined && !tokenMatches(presentedToken(request), token))
        return answer(401, { error: "unauthorized", message: "a valid API token is required (Authorization: Bearer …)" }, { "www-authenticate": "Bearer" });
    })
    .get(`${prefix}/v1/messages/:id`, ({ params, request }) =>
      answering(async () => {
        if (params.id.length > 256) throw new QueryError("the id is longer than 256 characters");
        if (tooBig()) return NEEDS_DATABASE();
        const withReports = wantsReports(request.url);
        const found = withReports || !reader.message ? await reader.lookup(params.id, "all") : await reader.message(params.id);
        if (!found) return answer(404, { error: "not_found", message: "no callback names this id" });
        return answer(200, withReports ? found : { message: found.message });
      }),
    )
    .get(`${prefix}/v1/messages`, ({ request }) =>
      answering(async () => {
        const query = messageListQuery(new URL(request.url).searchParams);
        if (!reader.messages) return NEEDS_DATABASE();
        const page = await reader.messages(query);
        return answer(200, { messages: page.messages, next: page.next === null ? null : encodeCursor(page.next) });
      }),
    )
    .get(`${prefix}/v1/report`, ({ request }) =>
      answering(async () => {
        const query = reportQuery(new URL(request.url).searchParams);
        if (tooBig()) return NEEDS_DATABASE();
        return answer(200, await reader.report(query));
      }),
    )
    .get(`${prefix}/v1/series`, ({ request }) =>
      answering(async () => {
        const query = seriesQuery(new URL(request.url).searchParams);
        if (tooBig()) return NEEDS_DATABASE();
        return answer(200, await reader.series(query));
      }),
    )
    .get(`${prefix}/v1/health`, () =>
      options.health ? answer(200, options.health()) : answer(501, { error: "no_metrics", message: "health is served by the standalone server" }),
    )
    .get(`${prefix}/v1/events`, ({ request }) =>
      answering(async () => {
        const params = new URL(request.url).searchParams;
        const filter = eventFilter(params);
        if (!log) return answer(501, { error: "no_log", message: "the live stream follows the log file: start the server with --log" });
        const from = positionOf(request.headers.get("last-event-id") ?? params.get("lastEventId"));
        return eventStream(log, from, filter, options.events);
      }),
    )
    .get(`${prefix}/v1/openapi.json`, () => answer(200, apiDocument(prefix)));
}
