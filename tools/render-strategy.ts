import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { renderStrategy } from '../src/strategy/index.js';
import { defineTool } from './tool.js';

/** Largest document returned inline; longer ones are cut and the full text stays in the file. */
const MAX_INLINE_CHARS = 60_000;

export const renderStrategyTool = defineTool({
  name: 'render_strategy',
  title: 'Render the segmentation strategy',
  description:
    'Write the "Segmentation Strategy" document (goals, data foundation, segment definitions with real sizes, ' +
    'scoring models with weights and tier counts, personalization playbook, implementation plan, measurement) from the ' +
    'scored workspace and the saved diagnostic answers. Returns the Markdown and a link to the file written in the ' +
    "workspace's output folder. Requires compute_scores first.",
  inputSchema: {},
  outputSchema: {
    path: z.string().describe('File the document was written to.'),
    markdown: z.string().describe(`The document (cut after ${MAX_INLINE_CHARS} characters; the file is complete).`),
    truncated: z.boolean().describe('True when markdown holds only the start of the document.'),
    segments: z
      .array(z.object({ id: z.string(), size: z.number(), share: z.string() }))
      .describe('Segments in the document with their sizes and shares of all users.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  exclusive: true,
  async handler({ ws, outputDir }) {
    const { markdown, document } = await renderStrategy(ws);
    mkdirSync(outputDir, { recursive: true });
    const file = path.join(outputDir, 'strategy.md');
    writeFileSync(file, markdown);
    const truncated = markdown.length > MAX_INLINE_CHARS;
    return {
      summary: `Wrote the strategy document (${markdown.length} characters) to ${file}.\n\n${markdown.slice(0, 4000)}${markdown.length > 4000 ? '\n…' : ''}`,
      structured: {
        path: file,
        markdown: truncated ? markdown.slice(0, MAX_INLINE_CHARS) : markdown,
        truncated,
        segments: document.segments.map((s) => ({ id: s.id, size: s.size, share: s.share })),
      },
      links: [{ uri: pathToFileURL(file).href, name: 'strategy.md', mimeType: 'text/markdown', description: 'Segmentation Strategy' }],
    };
  },
});
