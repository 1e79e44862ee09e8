import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { TOOLS } from '../tools/index.js';
import type { AnyToolDefinition, ToolExtra } from '../tools/tool.js';
import type { ServerContext } from './context.js';
import { parseArguments } from './mcp/arguments.js';
import { MAX_RESULT_BYTES, fitResult, truncationSchema } from './mcp/limits.js';
import { registerPrompts } from './mcp/prompts.js';
import { registerResources } from './mcp/resources.js';
import { toolJsonSchema } from './mcp/schemas.js';
import { CancelledError, UserInputError, log, type ProgressReporter } from './workspace/index.js';

export const SERVER_NAME = 'segmentation-mcp';
export const SERVER_VERSION = '0.1.0';

const INSTRUCTIONS = [
  'segmentation-mcp segments a product\'s users from its own data, inside a local DuckDB workspace.',
  'Typical flow: get_diagnostic_questions, load_data (events first, then users, billing, support),',
  'describe_data, compute_scores, find_users (e.g. atRisk: true), explain_user, render_strategy.',
  'Every number comes from the server; do not compute over rows yourself.',
  `Answers stay under ${MAX_RESULT_BYTES / 1000} kB of JSON: lists are paged with limit and cursor, and export_segment writes a whole list to a file.`,
  'Resources: segmentation://methodology, segmentation://workspace/schema, segmentation://segments/{name}, segmentation://templates/{name}.',
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

/**
 * Runs a tool handler and turns its outcome into a CallToolResult: it checks the
 * arguments, serializes the handler with other workspace work when the tool sets `exclusive`,
 * and cuts the answer to {@link MAX_RESULT_BYTES}. Input errors and cancellations become
 * `isError` results; any other error is logged and reported without its stack.
 */
async function runTool(tool: AnyToolDefinition, context: ServerContext, args: unknown, extra: ToolExtra): Promise<CallToolResult> {
  const started = Date.now();
  try {
    const parsed = parseArguments(tool.name, tool.inputSchema, args);
    const call = () => tool.handler(context, parsed as never, progressFor(extra));
    const output = tool.exclusive ? await context.ws.exclusive(call) : await call();
    log.info('tool call finished', { tool: tool.name, ms: Date.now() - started });
    const links = (output.links ?? []).map((link) => ({ type: 'resource_link' as const, ...link }));
    return fitResult({
      content: [{ type: 'text', text: output.summary }, ...links],
      structuredContent: output.structured as Record<string, unknown>,
    });
  } catch (error) {
    if (error instanceof UserInputError || error instanceof CancelledError) {
      log.info('tool call rejected', { tool: tool.name, reason: error.name, message: error.message });
      return errorResult(error.message);
    }
    log.error('tool call failed', { tool: tool.name, error: String(error), stack: (error as Error).stack });
    return errorResult(
      `${tool.name} failed unexpectedly: ${(error as Error).message}. The workspace is unchanged; ` +
        'check the arguments, and report this message if it repeats.',
    );
  }
}

/** The output shape registered for a tool: its own fields plus the `truncation` entry runTool adds when it cuts a result. */
function registeredOutputShape(tool: AnyToolDefinition): z.ZodRawShape {
  return { ...tool.outputSchema, truncation: truncationSchema.optional() };
}

/** Builds the `tools/list` entry of a tool, with JSON Schema 2020-12 schemas that carry no `$schema` keyword. */
function listedTool(tool: AnyToolDefinition): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: toolJsonSchema(tool.inputSchema, 'input'),
    outputSchema: toolJsonSchema(registeredOutputShape(tool), 'output'),
    annotations: { title: tool.title, ...tool.annotations },
  };
}

/**
 * Creates the MCP server with every tool, resource and prompt registered. It has no side
 * effects until connected to a transport.
 */
export function createServer(context: ServerContext): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    { capabilities: { logging: {} }, instructions: INSTRUCTIONS },
  );
  const tools = TOOLS as unknown as AnyToolDefinition[];
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // runTool checks the arguments itself, so that its errors name the value and the fix.
        inputSchema: z.looseObject({}),
        outputSchema: registeredOutputShape(tool),
        annotations: { title: tool.title, ...tool.annotations },
      },
      (args: Record<string, unknown>, extra: ToolExtra) => runTool(tool, context, args, extra),
    );
  }
  // registerTool installed the SDK's tools/list handler, which lists draft-07 schemas;
  // this one replaces it and lists the same tools with 2020-12 schemas.
  const listing = tools.map(listedTool);
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listing }));

  registerResources(server, context);
  registerPrompts(server);
  return server;
}
