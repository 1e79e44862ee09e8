import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { ProgressReporter } from '../src/workspace/index.js';
import type { ServerContext } from '../src/context.js';

/** What a tool handler returns: a short text for the model and the structured result. */
export interface ToolOutput<T> {
  readonly summary: string;
  readonly structured: T;
  /** Extra content blocks, such as resource links to exported files. */
  readonly links?: readonly { uri: string; name: string; mimeType: string; description?: string }[];
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * One MCP tool: its name, description, zod schemas, annotations and a thin handler that
 * calls the engine. server.ts registers every definition the same way.
 */
export interface ToolDefinition<Input extends z.ZodRawShape, Output extends z.ZodRawShape> {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: Input;
  readonly outputSchema: Output;
  readonly annotations: ToolAnnotations;
  /**
   * True: runTool runs the handler inside `ws.exclusive`, so it never sees a load or a
   * scoring run half done. Leave it unset when the handler calls an engine function that
   * takes `ws.exclusive` itself (loadData, computeScores): the lock is not reentrant, so
   * taking it twice would wait forever.
   */
  readonly exclusive?: boolean;
  readonly handler: (
    context: ServerContext,
    args: z.infer<z.ZodObject<Input>>,
    progress: ProgressReporter,
  ) => Promise<ToolOutput<z.infer<z.ZodObject<Output>>>>;
}

/** A tool definition whatever its shapes, as server.ts registers it. */
export type AnyToolDefinition = ToolDefinition<z.ZodRawShape, z.ZodRawShape>;

export function defineTool<Input extends z.ZodRawShape, Output extends z.ZodRawShape>(
  definition: ToolDefinition<Input, Output>,
): ToolDefinition<Input, Output> {
  return definition;
}
