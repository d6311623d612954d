/**
 * What the receiver needs from an SMS provider, and nothing more: the receiver reads a bounded
 * body, parses JSON, and hands the object to a provider, which checks it, turns it into log
 * entries and says how to recognise a retry. The receiver never imports a provider by name; the
 * plugin and the server pass one in.
 */
import type { TSchema } from "@sinclair/typebox";
import type { LogEntry, ReceivedEntry } from "../core/entry.ts";

/** Why a body was refused (answered 422 and logged as `rejected`): the field and what it must be. */
export interface InvalidBody {
  /** The offending field as a dotted path (`status.name`), when one is to blame. */
  field?: string;
  message: string;
}

/** What a provider makes of one callback body: entries to store (at least one), or a refusal. */
export type ProviderReading = { entries: ReceivedEntry[]; invalid?: undefined } | { invalid: InvalidBody };

export interface Provider {
  /** The entries' `provider` field, e.g. `routee`. */
  readonly name: string;
  /** The callback body as a JSON schema, for OpenAPI documents. */
  readonly schema: TSchema;
  /**
   * Check a parsed JSON object and turn it into entries. `raw` is the body's text, which an entry
   * that records the whole body keeps as its `report` without serialising it again.
   */
  read(body: Record<string, unknown>, raw: string, receivedAt?: Date): ProviderReading;
  /** The identity of an entry for duplicate detection (a retry has the same key), or null for none. */
  duplicateKey(entry: LogEntry): string | null;
}
