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

/** One callback as the provider sent it: what signature checks and non-JSON bodies need. */
export interface CallbackRequest {
  /** The URL the provider called, query included (with `--public-url`: the scheme, host and port it used). */
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  /** The body as received, checked to be UTF-8 ("" for a GET). */
  readonly text: string;
}

/** A request's body as an object, with the text to keep as the entry's `report` when it is JSON; or a refusal. */
export type DecodedBody = { body: Record<string, unknown>; raw?: string; invalid?: undefined } | { invalid: InvalidBody };

/** What a provider makes of one callback body: entries to store (at least one), or a refusal. */
export type ProviderReading = { entries: ReceivedEntry[]; invalid?: undefined } | { invalid: InvalidBody };

export interface Provider {
  /** The entries' `provider` field, e.g. `routee`. */
  readonly name: string;
  /** The provider's name for people, e.g. `Routee`. */
  readonly title: string;
  /** The callback body as a JSON schema, for OpenAPI documents. */
  readonly schema: TSchema;
  /**
   * Check a parsed JSON object and turn it into entries. `raw` is the body's text, which an entry
   * that records the whole body keeps as its `report` without serialising it again.
   */
  read(body: Record<string, unknown>, raw: string, receivedAt?: Date): ProviderReading;
  /** The identity of an entry for duplicate detection (a retry has the same key), or null for none. */
  duplicateKey(entry: LogEntry): string | null;
  /** The HTTP methods the provider calls with. @default ["POST"] */
  readonly methods?: readonly ("GET" | "POST")[];
  /**
   * Is the request really the provider's? null when it is, else why not: answered 401 and nothing
   * written. A provider that signs nothing has none (the token and the allowlist protect it).
   */
  verify?(request: CallbackRequest): string | null | Promise<string | null>;
  /**
   * How many `{ [ , :` a JSON body may hold, for a provider whose bodies carry many reports.
   * @default MAX_JSON_STRUCTURE (core/defaults.ts)
   */
  readonly maxJsonStructure?: number;
  /** The request as an object (form-encoded body, query parameters); without it the body is JSON. */
  decode?(request: CallbackRequest): DecodedBody;
}

/** A secret a provider's signature check needs, e.g. Twilio's auth token. */
export interface ProviderSecret {
  /** In flag form: `auth-token` gives `--twilio-auth-token-file` and `SMS_STATUS_TWILIO_AUTH_TOKEN`. */
  name: string;
  help: string;
  /** Why a value cannot be this secret (a key of the wrong length), or null: checked at start, exit 2. */
  check?(value: string): string | null;
}

/** A provider as the server enables it: its name, the secrets it needs, and how to make it. */
export interface ProviderSpec {
  name: string;
  /** What authenticates its callbacks, in a sentence (help text and README). */
  authenticity: string;
  /** The secrets its signature check needs; empty for a provider that signs nothing. */
  secrets: ProviderSecret[];
  /** Make the provider; `secrets` has every secret named above unless `unsigned` is set. */
  create(secrets: Readonly<Record<string, string>>, options: { unsigned: boolean }): Provider;
}
