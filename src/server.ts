import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TOOLS } from '../tools/index.js';
import type { ToolDefinition, ToolExtra } from '../tools/tool.js';
import type { ServerContext } from './context.js';
import { CancelledError, UserInputError, log, type ProgressReporter } from './workspace/index.js';

export const SERVER_NAME = 'segmentation-mcp';
export const SERVER_VERSION = '0.1.0';

const INSTRUCTIONS = [
  'segmentation-mcp segments a product\'s users from its own data, inside a local DuckDB workspace.',
  'Typical flow: get_diagnostic_questions, load_data (events first, then users, billing, support),',
  'describe_data, compute_scores, find_users (e.g. atRisk: true), explain_user, render_strategy.',
  'Every number comes from the server; do not compute over rows yourself.',
].join(' ');

/** Builds a progress reporter that forwards to MCP progress notifications when the request carries a token. */
function progressFor(extra: ToolExtra): ProgressReporter {
  const token = extra._meta?.progressToken;
  return {
    signal: extra.signal,
    report: ({ progress, total, message }) => {
      if (token === undefined) return;
      extra
        .sendNotification({
          method: 'notifications/progress',
          params: { progressToken: token, progress, ...(total !== undefined ? { total } : {}), ...(message ? { message } : {}) },
        })
        .catch((error: unknown) => log.warn('progress notification failed', { error: String(error) }));
    },
  };
}

function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** Runs a tool handler and turns its outcome into a CallToolResult; input errors become `isError` results. */
async function runTool(
  tool: ToolDefinition<z.ZodRawShape, z.ZodRawShape>,
  context: ServerContext,
  args: Record<string, unknown>,
  extra: ToolExtra,
): Promise<CallToolResult> {
  const started = Date.now();
  try {
    const output = await tool.handler(context, args as never, progressFor(extra));
    log.info('tool call finished', { tool: tool.name, ms: Date.now() - started });
    const links = (output.links ?? []).map((link) => ({ type: 'resource_link' as const, ...link }));
    return {
      content: [{ type: 'text', text: output.summary }, ...links],
      structuredContent: output.structured as Record<string, unknown>,
    };
  } catch (error) {
    if (error instanceof UserInputError || error instanceof CancelledError) {
      log.info('tool call rejected', { tool: tool.name, reason: error.name });
      return errorResult(error.message);
    }
    log.error('tool call failed', { tool: tool.name, error: String(error), stack: (error as Error).stack });
    return errorResult(
      `${tool.name} failed unexpectedly: ${(error as Error).message}. The workspace is unchanged; ` +
        'check the arguments, and report this message if it repeats.',
    );
  }
}

/** Creates the MCP server with every tool registered. It has no side effects until connected to a transport. */
export function createServer(context: ServerContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  for (const tool of TOOLS as unknown as ToolDefinition<z.ZodRawShape, z.ZodRawShape>[]) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.inputSchema,
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
      },
      (args: Record<string, unknown>, extra: ToolExtra) => runTool(tool, context, args, extra),
    );
  }
  return server;
}
