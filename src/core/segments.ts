/**
 * SMS encoding detection and segment counting (GSM 03.38 / 3GPP TS 23.038, as providers bill it).
 * Pure: no I/O, no clock. Rules and test vectors: `sms-facts.md` section 4, cross-checked against
 * Twilio's message-segment-calculator (TwilioDevEd/message-segment-calculator, src/libs/*.ts).
 */
import type { Encoding } from './types.js';

export type { Encoding } from './types.js';

/** The size of one message as a provider counts it. */
export interface SegmentInfo {
  /** `GSM-7` when every character is in the GSM 03.38 basic or extension table, else `UCS-2`. */
  encoding: Encoding;
  /** Billable parts: 0 for an empty text, 1 up to 160 septets / 70 UCS-2 units, then 153 / 67 per part. */
  segments: number;
  /** Septets (GSM-7; extension characters cost 2) or UTF-16 code units (UCS-2; a non-BMP emoji costs 2). */
  units: number;
  /** User-perceived characters (grapheme clusters where the runtime can split them, else code points). */
  characters: number;
}

// GSM 03.38 basic table, as Unicode (sms-facts.md §4; TwilioDevEd UnicodeToGSM.ts). 1 septet each.
// ESC (0x1B) is the escape code itself and never appears in text, so it is not listed.
const GSM_BASIC =
  '\n\r !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz' +
  '¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùüΓΔΘΛΞΠΣΦΨΩ';
// GSM 03.38 extension table: ESC + char, so 2 septets each (form feed, [ \ ] ^ { | } ~ €).
const GSM_EXTENSION = '\f[\\]^{|}~€';

// Septets per UTF-16 code unit (0 = not GSM-7): a flat table, because this runs on every reply.
const SEPTETS = new Uint8Array(0x10000);
for (const ch of GSM_BASIC) SEPTETS[ch.charCodeAt(0)] = 1;
for (const ch of GSM_EXTENSION) SEPTETS[ch.charCodeAt(0)] = 2;

// 140 octets per part; a 6-octet concatenation header (UDH) leaves 153 septets / 67 UCS-2 units.
const GSM_SINGLE = 160;
const GSM_MULTI = 153;
const UCS2_SINGLE = 70;
const UCS2_MULTI = 67;

// Intl.Segmenter exists on Node 20; keep a fallback so the module never throws on exotic runtimes.
const graphemeSegmenter: { segment(text: string): Iterable<{ segment: string }> } | null =
  typeof Intl !== 'undefined' && typeof Intl.Segmenter === 'function'
    ? new Intl.Segmenter('en', { granularity: 'grapheme' })
    : null;

/**
 * True when the whole text can be sent as GSM-7 (basic table plus the 2-septet extension table).
 * Pure. One character outside the tables (`ê`, a backtick, curly quotes, an emoji) makes the whole message UCS-2.
 *
 * @param text - the message body
 * @returns whether the text fits the GSM-7 alphabet
 * @example
 * isGsm7('Price: 10€ {ok}') // true (`€`, `{`, `}` are extension characters)
 * isGsm7('Crêpe')            // false (`ê` is not in GSM 03.38)
 */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (SEPTETS[text.charCodeAt(i)] === 0) return false;
  }
  return true;
}

/** Splits into grapheme clusters so a cluster (emoji with modifiers, letter + accent) is never cut. */
function graphemes(text: string): string[] {
  if (graphemeSegmenter === null) return Array.from(text);
  const out: string[] = [];
  for (const { segment } of graphemeSegmenter.segment(text)) out.push(segment);
  return out;
}

/**
 * Packs atoms greedily into parts of `perPart` units; an atom (ESC pair, surrogate pair, grapheme) that does
 * not fit in the space left opens the next part, as handsets reassemble only whole characters
 * (TwilioDevEd Segment.ts).
 */
function packGreedy(sizes: readonly number[], perPart: number): number {
  let parts = 1;
  let used = 0;
  for (const size of sizes) {
    if (used + size > perPart) {
      parts += 1;
      used = 0;
    }
    used += size;
  }
  return parts;
}

/** UTF-16 sizes of the atoms of a UCS-2 text: whole graphemes, or code points for a cluster over one part. */
function ucs2Atoms(clusters: readonly string[], perPart: number): number[] {
  const sizes: number[] = [];
  for (const cluster of clusters) {
    if (cluster.length <= perPart) sizes.push(cluster.length);
    // A cluster longer than a part (e.g. a long zalgo run) cannot stay whole; keep its surrogate pairs whole.
    else for (const cp of cluster) sizes.push(cp.length);
  }
  return sizes;
}

/**
 * Measures a message as providers bill it: encoding, segments, units and characters.
 * Pure and deterministic for a given runtime. Empty text is 0 segments (nothing is sent); any non-empty
 * text is at least 1. A text that fits one part (160 septets / 70 units) is 1 segment; otherwise parts of
 * 153 septets / 67 units are filled greedily, never splitting an ESC pair, a surrogate pair or a grapheme.
 *
 * @param text - the message body
 * @returns encoding, segment count, units (septets or UTF-16 units) and user-perceived characters
 * @example
 * measureSegments('a'.repeat(161)) // { encoding: 'GSM-7', segments: 2, units: 161, characters: 161 }
 * measureSegments('😀'.repeat(36)) // { encoding: 'UCS-2', segments: 2, units: 72, characters: 36 }
 */
export function measureSegments(text: string): SegmentInfo {
  if (typeof text !== 'string' || text.length === 0) {
    return { encoding: 'GSM-7', segments: 0, units: 0, characters: 0 };
  }
  if (isGsm7(text)) {
    // In GSM-7 each UTF-16 unit is one character of 1 or 2 septets; packing per unit keeps ESC pairs whole.
    let units = 0;
    for (let i = 0; i < text.length; i++) units += SEPTETS[text.charCodeAt(i)]!;
    const segments =
      units <= GSM_SINGLE
        ? 1
        : packGreedy(
            Array.from(text, (ch) => SEPTETS[ch.charCodeAt(0)]!),
            GSM_MULTI,
          );
    // GSM-7 has no combining marks or surrogates: the only multi-unit grapheme is CR LF. Skipping
    // Intl.Segmenter here makes the common case about 20x faster.
    const crlf = text.match(/\r\n/g)?.length ?? 0;
    return { encoding: 'GSM-7', segments, units, characters: text.length - crlf };
  }
  const clusters = graphemes(text);
  const units = text.length;
  const segments = units <= UCS2_SINGLE ? 1 : packGreedy(ucs2Atoms(clusters, UCS2_MULTI), UCS2_MULTI);
  return { encoding: 'UCS-2', segments, units, characters: clusters.length };
}
