import { z } from 'zod';
import { deleteSegment } from '../src/segments/index.js';
import { defineTool } from './tool.js';

export const deleteSegmentTool = defineTool({
  name: 'delete_segment',
  title: 'Delete a saved segment',
  description:
    'Delete a segment saved with define_segment, with its stored memberships and sizes. Use it to remove a segment that ' +
    'is no longer needed; it cannot be undone. Built-in segments cannot be deleted. Names match without regard to case.',
  inputSchema: {
    name: z.string().min(1).max(200).describe('Name of the saved segment, as list_segments shows it.'),
  },
  outputSchema: {
    name: z.string().describe('The deleted segment.'),
    members: z.number().describe('Stored membership rows removed with it.'),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  exclusive: true,
  async handler({ ws }, args) {
    const result = await deleteSegment(ws, args.name);
    return { summary: `Deleted the saved segment "${result.name}".`, structured: result };
  },
});
