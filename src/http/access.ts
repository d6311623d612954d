/**
 * Who may post reports. Routee signs nothing, so a receiver protects itself with a secret in the
 * callback URL (or a bearer token) and an allowlist of Routee's addresses
 * (`callbacksallow.routee.net`).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Compare a presented token with the secret in constant time. Both are hashed first, so neither
 * the secret's length nor the position of the first difference shows in the timing.
 */
export function tokenMatches(presented: string | null, secret: string): boolean {
  if (presented === null) return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b);
}

/** The token from `?token=` or `Authorization: Bearer`, whichever is present. */
export function presentedToken(request: Request): string | null {
  const auth = request.headers.get("authorization");
  if (auth && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, "").trim();
  const url = request.url;
  const q = url.indexOf("?");
  if (q === -1) return null;
  return new URLSearchParams(url.slice(q + 1)).get("token");
}

/** An IP, a CIDR (v4 or v6), or anything else (a host name to resolve). */
function parseRange(entry: string): Range | null {
  try {
    if (entry.includes("/")) return normalizeRange(ipaddr.parseCIDR(entry));
    // Digits and dots are meant as IPv4 ("999.1.1.1", "10.1"): never a host name to look up, and
    // only the four-part decimal form (ipaddr.js would read "10.1" as 10.0.0.1, "010" as octal).
    if (/^[\d.]+$/.test(entry) && !ipaddr.IPv4.isValidFourPartDecimal(entry)) throw new Error("not an IPv4 address");
    if (ipaddr.isValid(entry)) {
      const ip = normalize(ipaddr.parse(entry));
      return [ip, ip.kind() === "ipv4" ? 32 : 128];
    }
  } catch {
    throw new Error(`${JSON.stringify(entry)} is not a valid IP address or CIDR range`);
  }
  return null;
}

function normalizeRange([ip, bits]: Range): Range {
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96)
    return [(ip as ipaddr.IPv6).toIPv4Address(), bits - 96];
  return [ip, bits];
}

/** `::ffff:1.2.3.4` (how a dual-stack socket reports IPv4 peers) is matched as `1.2.3.4`. */
function normalize(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress() ? (ip as ipaddr.IPv6).toIPv4Address() : ip;
}

function inRanges(address: string, ranges: readonly Range[]): boolean {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = normalize(ipaddr.parse(address));
  } catch {
    return false;
  }
  return ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net as never, bits));
}

/** Entries must be IPs or CIDRs; throws with the offending entry named. */
export function parseRanges(entries: readonly string[]): Range[] {
  return entries.map((entry) => {
    const range = parseRange(entry);
    if (!range) throw new Error(`${JSON.stringify(entry)} is not a valid IP address or CIDR range`);
    return range;
  });
}

/**
 * The client's address: the socket's, unless the socket is a trusted proxy, in which case
 * `X-Forwarded-For` is read from the right, skipping trusted proxies, and the first untrusted
 * hop is the client. A forged header from an untrusted peer is never read.
 */
export function clientAddress(socketAddress: string | null, forwardedFor: string | null, trusted: readonly Range[]): string | null {
  if (socketAddress === null || trusted.length === 0 || !inRanges(socketAddress, trusted)) return socketAddress;
  const hops = (forwardedFor ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  let client = socketAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    client = hops[i]!;
    if (!inRanges(client, trusted)) break;
  }
  return client;
}

export interface AllowlistOptions {
  /** IPs, CIDRs or host names (resolved at start and every `refreshMs`). */
  allow: readonly string[];
  /** @default 300_000 (5 minutes) */
  refreshMs?: number;
  /** While a host name has never resolved, how soon to try again. @default 10_000 */
  retryMs?: number;
  /** Where resolution failures are reported. @default console.error */
  onWarning?: (message: string) => void;
  /** Injected for tests. @default node:dns lookup */
  resolve?: (host: string) => Promise<string[]>;
}

const resolveHost = async (host: string) => (await lookup(host, { all: true })).map((a) => a.address);

/** IP allowlist with host names re-resolved periodically; a failed lookup keeps the last good set. */
export class Allowlist {
  readonly #fixed: Range[] = [];
  readonly #hosts: string[] = [];
  readonly #resolved = new Map<string, Range[]>();
  readonly #options: AllowlistOptions;
  #timer: ReturnType<typeof setInterval> | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(options: AllowlistOptions) {
    this.#options = options;
    for (const entry of options.allow) {
      const range = parseRange(entry);
      if (range) this.#fixed.push(range);
      else if (/^[a-z0-9.-]+$/i.test(entry)) this.#hosts.push(entry);
      else throw new Error(`${JSON.stringify(entry)} is not an IP address, CIDR range or host name`);
    }
  }

  /** Resolve host names now, then keep them fresh. Resolves once the first round is done. */
  async start(): Promise<void> {
    this.#stopped = false;
    if (this.#hosts.length > 0 && !this.#timer) {
      this.#timer = setInterval(() => void this.refresh(), this.#options.refreshMs ?? 300_000);
      this.#timer.unref?.();
    }
    await this.refresh();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#retry) clearTimeout(this.#retry);
    this.#timer = null;
    this.#retry = null;
  }

  async refresh(): Promise<void> {
    const resolve = this.#options.resolve ?? resolveHost;
    const warn = this.#options.onWarning ?? ((m: string) => console.error(m));
    await Promise.all(
      this.#hosts.map(async (host) => {
        try {
          const addresses = await resolve(host);
          if (addresses.length === 0) throw new Error("no addresses");
          this.#resolved.set(host, parseRanges(addresses));
        } catch (error) {
          const kept = this.#resolved.get(host)?.length ?? 0;
          warn(`sms-status: cannot resolve ${host} (${(error as Error).message}); keeping ${kept} known address(es)`);
        }
      }),
    );
    // A name that has never resolved (DNS down at boot) would otherwise refuse everyone from it
    // until the next refresh: try it again soon.
    const unresolved = this.#hosts.some((host) => !this.#resolved.has(host));
    if (unresolved && !this.#stopped && !this.#retry && this.#timer !== null) {
      this.#retry = setTimeout(() => {
        this.#retry = null;
        void this.refresh();
      }, this.#options.retryMs ?? 10_000);
      this.#retry.unref?.();
    }
  }

  allows(address: string | null): boolean {
    if (address === null) return false;
    if (inRanges(address, this.#fixed)) return true;
    for (const ranges of this.#resolved.values()) if (inRanges(address, ranges)) return true;
    return false;
  }
}
