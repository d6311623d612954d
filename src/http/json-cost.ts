/**
 * What a JSON body would cost to parse, counted on its bytes before `JSON.parse` builds anything:
 * a body within the size limit can still hold tens of thousands of arrays or objects, and a
 * handful of such bodies in flight would take the process past its memory limit.
 */
import { MAX_JSON_DEPTH, MAX_JSON_STRUCTURE } from "../core/defaults.ts";

import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "../core/bytes.ts";

/**
 * Why `bytes` is too costly to parse (too deep, or too many values), or null when it is not.
 * One pass; strings are skipped with a native search for their closing quote (a UTF-8
 * continuation byte is never ASCII). The body need not be valid JSON: that is `JSON.parse`'s to say.
 * @example jsonCost(new TextEncoder().encode("[[[]]]"), { depth: 2 }) // "the JSON nests deeper than 2 levels"
 */
export function jsonCost(bytes: Uint8Array, limits: { depth?: number; structure?: number } = {}): string | null {
  const maxDepth = limits.depth ?? MAX_JSON_DEPTH;
  const maxStructure = limits.structure ?? MAX_JSON_STRUCTURE;
  let depth = 0;
  let structure = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === QUOTE) {
      i = closingQuote(bytes, i);
      if (i < 0) return null; // an unterminated string: JSON.parse refuses it cheaply
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) return `the JSON nests deeper than ${maxDepth} levels`;
      if (++structure > maxStructure) return tooMany(maxStructure);
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
    else if (b === COMMA || b === COLON) {
      if (++structure > maxStructure) return tooMany(maxStructure);
    }
  }
  return null;
}

/** The index of the quote that closes the string opened at `open`: one after an even run of backslashes. */
function closingQuote(bytes: Uint8Array, open: number): number {
  let i = open;
  for (;;) {
    i = bytes.indexOf(QUOTE, i + 1);
    if (i < 0) return -1;
    let slash = i - 1;
    while (bytes[slash] === BACKSLASH) slash--;
    if ((i - slash) % 2 === 1) return i;
  }
}

const tooMany = (max: number) => `the JSON has more than ${max} brackets, commas and colons (too many values)`;
