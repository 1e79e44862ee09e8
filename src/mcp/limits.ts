import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/**
 * Maximum size of one tool result: the UTF-8 bytes of the CallToolResult serialized as JSON
 * (text blocks, structured content and links together). runTool cuts larger results.
 */
export const MAX_RESULT_BYTES = 100_000;

/** Room kept free for the JSON framing of the note and the truncation entry. */
const NOTE_RESERVE_BYTES = 500;

/** Strings shorter than this are never cut: they are identifiers and short labels. */
const MIN_CUTTABLE_STRING = 200;

export const truncationSchema = z
  .object({
    maxBytes: z.number().describe('Size limit of one tool result, in bytes of JSON.'),
    lists: z
      .array(z.object({ path: z.string(), kept: z.number(), total: z.number() }))
      .describe('Lists that were cut: where, how many items are kept and how many there were.'),
    texts: z
      .array(z.object({ path: z.string(), keptChars: z.number(), totalChars: z.number() }))
      .describe('Texts that were cut: where, how many characters are kept and how many there were.'),
  })
  .describe(`Present only when the result was cut to fit ${MAX_RESULT_BYTES} bytes of JSON.`);

export type Truncation = z.infer<typeof truncationSchema>;

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

interface Candidate {
  readonly path: string;
  readonly bytes: number;
  readonly cut: () => void;
}

/** Collects the arrays and long strings under `value`, each with a function that halves it. */
function collectCandidates(value: unknown, at: string, out: Candidate[], truncation: Truncation): void {
  if (Array.isArray(value)) {
    if (value.length > 0) {
      out.push({
        path: at,
        bytes: jsonBytes(value),
        cut: () => {
          const entry = truncation.lists.find((item) => item.path === at);
          const total = entry?.total ?? value.length;
          value.length = Math.floor(value.length / 2);
          if (entry) entry.kept = value.length;
          else truncation.lists.push({ path: at, kept: value.length, total });
        },
      });
    }
    value.forEach((item, index) => collectCandidates(item, `${at}[${index}]`, out, truncation));
    return;
  }
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(record)) {
      const childPath = at === '' ? key : `${at}.${key}`;
      if (typeof child === 'string' && child.length >= MIN_CUTTABLE_STRING) {
        out.push({ path: childPath, bytes: jsonBytes(child), cut: () => cutString(record, key, childPath, truncation) });
      } else {
        collectCandidates(child, childPath, out, truncation);
      }
    }
  }
}

function cutString(record: Record<string, unknown>, key: string, at: string, truncation: Truncation): void {
  const text = record[key] as string;
  const entry = truncation.texts.find((item) => item.path === at);
  const kept = Math.floor(text.length / 2);
  record[key] = `${text.slice(0, kept)}…`;
  if (entry) entry.keptChars = kept;
  else truncation.texts.push({ path: at, keptChars: kept, totalChars: text.length });
}

/** Builds the note put before the text content. With more than a few cuts it points to `truncation` instead of listing them. */
function truncationNote(truncation: Truncation): string {
  const cuts = [
    ...truncation.lists.map((item) => `${item.path} kept ${item.kept} of ${item.total} items`),
    ...truncation.texts.map((item) => `${item.path} kept ${item.keptChars} of ${item.totalChars} characters`),
  ];
  const what = cuts.length <= 5 ? cuts.join('; ') : `${cuts.length} lists and texts were shortened, see structuredContent.truncation`;
  return (
    `[This result was cut to fit ${truncation.maxBytes} bytes: ${what}. ` +
    'Ask for less: a smaller limit, narrower filters, or export_segment for a full list.]'
  );
}

/**
 * Returns `result` unchanged when its JSON fits in `maxBytes`; otherwise a copy whose
 * largest lists and longest texts are halved, largest first, until the copy, its
 * `truncation` entry and the note fit. The copy's structured content gains the
 * `truncation` entry and the first text block the note. Throws when nothing is left to
 * cut, which no tool result reaches.
 */
export function fitResult(result: CallToolResult, maxBytes: number = MAX_RESULT_BYTES): CallToolResult {
  if (jsonBytes(result) <= maxBytes) return result;

  const copy = structuredClone(result) as CallToolResult;
  const truncation: Truncation = { maxBytes, lists: [], texts: [] };
  const size = () =>
    jsonBytes(copy) + (copy.structuredContent ? jsonBytes({ truncation }) : 0) + Buffer.byteLength(truncationNote(truncation)) + NOTE_RESERVE_BYTES;
  while (size() > maxBytes) {
    const candidates: Candidate[] = [];
    if (copy.structuredContent) collectCandidates(copy.structuredContent, '', candidates, truncation);
    copy.content.forEach((block, index) => {
      if (block.type === 'text' && block.text.length >= MIN_CUTTABLE_STRING) {
        const holder = block as unknown as Record<string, unknown>;
        candidates.push({ path: `content[${index}].text`, bytes: jsonBytes(block.text), cut: () => cutString(holder, 'text', `content[${index}].text`, truncation) });
      }
    });
    if (candidates.length === 0) {
      throw new Error(`The tool result is ${jsonBytes(copy)} bytes and nothing in it can be cut below ${maxBytes} bytes.`);
    }
    // Halving every candidate close to the largest at once keeps the number of rounds small
    // when a result holds many lists of similar size.
    candidates.sort((a, b) => b.bytes - a.bytes);
    const threshold = candidates[0].bytes / 2;
    const cut: string[] = [];
    for (const candidate of candidates.filter((item) => item.bytes >= threshold)) {
      // A list inside a list cut this round may have been dropped with the outer items.
      if (cut.some((outer) => candidate.path.startsWith(`${outer}[`) || candidate.path.startsWith(`${outer}.`))) continue;
      candidate.cut();
      cut.push(candidate.path);
    }
  }

  if (copy.structuredContent) copy.structuredContent = { ...copy.structuredContent, truncation };
  const note = truncationNote(truncation);
  const first = copy.content[0];
  if (first && first.type === 'text') first.text = `${note}\n${first.text}`;
  else copy.content.unshift({ type: 'text', text: note });
  return copy;
}
