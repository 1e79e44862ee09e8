import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

function userMessages(...texts: string[]): GetPromptResult {
  return { messages: texts.map((text) => ({ role: 'user' as const, content: { type: 'text' as const, text } })) };
}

function dataHint(dataFolder: string | undefined): string {
  return dataFolder
    ? `The data files are in ${dataFolder}.`
    : 'Ask me where the data files are; they must be inside a folder the server may read.';
}

/** Registers the three guided workflows: a full consultative session, the at-risk list, and the strategy document. */
export function registerPrompts(server: McpServer): void {
  server.registerPrompt(
    'segmentation_session',
    {
      title: 'Consultative segmentation session',
      description: 'Walk through a full segmentation: diagnostic questions, loading, scoring, segments and the strategy document.',
      argsSchema: {
        product: z.string().max(500).optional().describe('What the product is and who uses it, in a sentence.'),
        dataFolder: z.string().max(1000).optional().describe('Folder that holds the exports (events, users, billing, support, NPS).'),
      },
    },
    ({ product, dataFolder }) =>
      userMessages(
        `Run a user segmentation for ${product ? `this product: ${product}` : 'my product'} with the segmentation-mcp tools. ${dataHint(dataFolder)}`,
        [
          'Work like a consultant, one step at a time, and wait for my answers where a step needs them:',
          '1. Call get_diagnostic_questions and put the questions the data does not answer to me. Store my answers with save_diagnostic_answers.',
          '2. Load the events with load_data, then the users, billing, support and NPS files that exist. Read each load report and tell me about rejected rows.',
          '3. Call describe_data and tell me which score components the data cannot support.',
          '4. Call compute_scores and summarise the segments and tiers with their sizes.',
          '5. Use find_users and explain_user to show me a few users of each segment that matters for my decisions.',
          '6. Call render_strategy and give me the document link.',
          'Every number must come from a tool result: do not compute over rows yourself. The resource segmentation://methodology explains the method.',
        ].join('\n'),
      ),
  );

  server.registerPrompt(
    'find_at_risk_users',
    {
      title: 'Find my at-risk users',
      description: 'Score the users and list the ones at risk of churning, with the reasons and a file of the full list.',
      argsSchema: {
        eventsFile: z.string().max(1000).optional().describe('Path of the events export, when nothing is loaded yet.'),
      },
    },
    ({ eventsFile }) =>
      userMessages(
        [
          'Find the users at risk of churning, and tell me why each is at risk.',
          eventsFile
            ? `First load ${eventsFile} with load_data (table "events") unless describe_data shows events are already loaded.`
            : 'Call describe_data first; if no events are loaded, ask me for the events file and load it with load_data.',
          'Then call compute_scores, and find_users with {"atRisk": true}: it returns the highest churn risk first, with reasons.',
          'Show the first ten with their signals, explain the top one with explain_user, and give the total.',
          'Finally call export_segment with {"atRisk": true} and give me the link to the full list.',
        ].join('\n'),
      ),
  );

  server.registerPrompt(
    'draft_strategy_document',
    {
      title: 'Draft the strategy document',
      description: 'Fill the gaps in the diagnostic answers, then render the Segmentation Strategy document from the scored workspace.',
      argsSchema: {
        goal: z.string().max(2000).optional().describe('The decision the segmentation should support, e.g. "prioritise renewals".'),
      },
    },
    ({ goal }) =>
      userMessages(
        [
          'Draft our Segmentation Strategy document with the segmentation-mcp tools.',
          goal ? `Our main goal: ${goal}. Save it with save_diagnostic_answers as the answer to "decisions".` : '',
          'Call get_diagnostic_questions; for questions without an answer, ask me, then save the answers with save_diagnostic_answers.',
          'If describe_data shows no scores yet, run compute_scores first.',
          'Call render_strategy, then review the document with me: segments under 100 users, missing data sources, and the first actions.',
        ]
          .filter(Boolean)
          .join('\n'),
      ),
  );
}
