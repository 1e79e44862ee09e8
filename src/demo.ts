import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** Finds the package root: two levels above this file in dist/src/, one above it in src/. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the demo script.');
    dir = parent;
  }
  return dir;
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function firstText(result: CallToolResult): string {
  const block = result.content.find((item) => item.type === 'text');
  return block && block.type === 'text' ? block.text : '';
}

/**
 * Runs the consultative flow against the built server over stdio with a real MCP
 * client: questions, load, describe, score, at-risk users, explanation, strategy.
 */
export async function runDemo(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true });
  const root = packageRoot();
  const fixture = path.join(root, 'fixtures', 'saas');
  const outDir = path.resolve(values.out ?? path.join(root, 'demo-output'));
  const workDir = mkdtempSync(path.join(tmpdir(), 'segmentation-demo-'));
  const cli = path.join(root, 'dist', 'src', 'cli.js');

  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'serve', '--workspace', path.join(workDir, 'demo.duckdb'), '--allow', fixture],
    env: { ...process.env, SEGMENTATION_MCP_LOG: 'warn' } as Record<string, string>,
    stderr: 'inherit',
  });
  const client = new Client({ name: 'segmentation-demo', version: '1.0.0' });
  await client.connect(transport);

  const call = async (step: string, name: string, args: Record<string, unknown> = {}) => {
    say(`\n== ${step}: ${name}`);
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed: ${firstText(result)}`);
    return result;
  };
  const brief = (text: string, lines = 12) => {
    const all = text.split('\n');
    say(all.slice(0, lines).join('\n') + (all.length > lines ? `\n  … (${all.length - lines} more lines)` : ''));
  };

  try {
    const tools = await client.listTools();
    say(`Connected to the server over stdio; ${tools.tools.length} tools: ${tools.tools.map((t) => t.name).join(', ')}`);

    brief(firstText(await call('1. Ask the diagnostic questions', 'get_diagnostic_questions')), 8);
    await call('2. Record the team\'s answers', 'save_diagnostic_answers', {
      answers: {
        decisions: 'Find accounts to save before renewal and the users ready for a sales conversation.',
        activation_metric: 'Created a project and invited a teammate in the first 14 days.',
      },
    });
    say('Saved two answers.');

    for (const table of ['users', 'events', 'billing', 'support', 'nps']) {
      const file = table === 'events' ? 'events.csv.gz' : `${table}.csv`;
      brief(firstText(await call(`3. Load ${table}`, 'load_data', { table, path: path.join(fixture, file) })), 3);
    }
    brief(firstText(await call('4. Describe the data', 'describe_data')), 10);
    brief(firstText(await call('5. Score every user', 'compute_scores')), 10);
    const atRisk = await call('6. Who is at risk, and why?', 'find_users', { atRisk: true, limit: 5 });
    brief(firstText(atRisk), 8);
    const first = (atRisk.structuredContent as { users: { userId: string }[] }).users[0];
    if (first) brief(firstText(await call(`7. Explain user ${first.userId}`, 'explain_user', { userId: first.userId })), 8);

    const rendered = await call('8. Render the strategy document', 'render_strategy');
    const markdown = (rendered.structuredContent as { markdown: string }).markdown;
    mkdirSync(outDir, { recursive: true });
    const file = path.join(outDir, 'strategy.md');
    writeFileSync(file, markdown);
    brief(markdown, 14);
    say(`\nThe strategy document is in ${file}`);
  } finally {
    await client.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
