/**
 * Where entries go and how they come back: the seam between the receiver and whatever keeps the
 * entries (the file log today; SQLite and PostgreSQL next). The receiver answers 200 only once
 * `write` has resolved, so a store's `write` says what "stored" means for it.
 */
import type { LogEntry, ReceivedEntry } from "../core/entry.ts";
import type { ChannelFilter, Report, ReportQuery } from "../status/report.ts";
import type { Series, SeriesQuery } from "../status/series.ts";
import type { MessageStatus } from "../status/tracker.ts";

export interface StoreStats {
  /** Entries stored since start. */
  entries: number;
  /** Bytes written since start (0 for a store that does not count them). */
  bytes: number;
  /** Writes that failed since start. */
  failures: number;
}

export interface Store {
  /**
   * Store the entries of one callback together. Resolves once they are stored (the answer waits
   * for it); rejects if they could not be, with none of them half-stored. A store that
   * `decidesDuplicates` resolves with, per entry, whether it was new.
   */
  write(entries: readonly ReceivedEntry[]): Promise<void | readonly boolean[]>;
  /**
   * True when the store itself knows a retry (a database's unique key, shared by every replica):
   * the receiver then keeps no duplicate filter of its own and stores what `write` says was new.
   */
  readonly decidesDuplicates?: boolean;
  /** False from a failed write until a write or `probe()` succeeds again. */
  readonly healthy: boolean;
  /** Why the last write failed (`ENOSPC`, `EACCES`, ...), or null. */
  readonly lastError: string | null;
  /** Check an unhealthy store again; resolves to the health. */
  probe(): Promise<boolean>;
  /** Let go of the file or connection and take it again (log rotation: SIGHUP). */
  reopen(): Promise<void>;
  /** Store what is pending and let go. */
  close(): Promise<void>;
  readonly stats: StoreStats;
  /**
   * The entries stored most recently, oldest first, read at start so that the duplicate filter
   * remembers them after a restart. Bounded in time and memory whatever the store holds.
   */
  recent(): Iterable<LogEntry>;
}

/** What `lookup --json` prints. */
export interface Lookup {
  /** The message's status by the rules; null when only other callbacks (an inbound message, a campaign) name the id. */
  message: MessageStatus | null;
  /** Every callback for the message, in the order received (the log entries as written). */
  reports: LogEntry[];
}

/** A page of `messages()`: filters (null: any), how many, and where the previous page ended. */
export interface MessageListQuery {
  outcome: "delivered" | "failed" | "pending" | null;
  channel: ChannelFilter;
  /** Messages first seen in [since, until) (ISO). */
  since: string | null;
  until: string | null;
  to: string | null;
  label: string | null;
  campaign: string | null;
  limit: number;
  /** The previous page's last position (from `next`), or null for the newest. */
  cursor: number | null;
}

export interface MessagePage {
  messages: MessageStatus[];
  /** Where the next page starts, or null when this was the last. */
  next: number | null;
}

/** How message status is read back from a store: one message, or a report over many. */
export interface StatusReader {
  /**
   * True when answering means scanning more than one request should (log files past a size): an
   * API then says it needs the database instead of scanning for seconds.
   */
  scansTooMuch?(): boolean;
  /** A page of messages, newest first; only stores with an index of messages have it (the databases). */
  messages?(query: MessageListQuery): Promise<MessagePage>;
  /** The message (by its messageId, smsId or trackingId) with every report for it; null when none names it. */
  lookup(id: string, channel?: ChannelFilter): Promise<Lookup | null>;
  /** `lookup(id, "all")`'s message without its reports, where a store answers it faster. */
  message?(id: string): Promise<Pick<Lookup, "message"> | null>;
  /** Messages by outcome, rate, cost, failures and latency, within the query's window. */
  report(query: ReportQuery): Promise<Report>;
  /** Status callbacks per minute, hour or day, by outcome and failure (status/series.ts). */
  series(query: SeriesQuery): Promise<Series>;
}
