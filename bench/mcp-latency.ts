import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createServer } from '../src/server.js';
import { PathPolicy, Workspace } from '../src/workspace/index.js';
import { parseArgs } from './paths.js';
import { printResult, type ChildResult } from './stages.js';

const SEGMENTS = ['at_risk', 'dormant', 'regular', 'casual', 'power', 'inactive', 'new'];
const ENGAGEMENT_TIERS = ['highly_engaged', 'engaged', 'moderate', 'low', 'disengaged'];
const CHURN_TIERS = ['high', 'moderate', 'low', 'healthy'];
const RFM_SEGMENTS = ['champions', 'loyal', 'promising', 'recent_infrequent', 'need_attention', 'hibernating', 'lost'];
const ORDERS = ['churn_risk_score', 'engagement_score', 'at_risk_signal_count', 'days_since_last_active', 'sessions_7d', 'user_id'];

/** Returns the arguments of the i-th call of the sample. Filters, order and page size vary so that no two neighbours repeat. */
export function sampleArguments(i: number): Record<string, unknown> {
  const args: Record<string, unknown> = { orderBy: ORDERS[i % ORDERS.length] };
  switch (i % 5) {
    case 0:
      args.segment = SEGMENTS[i % SEGMENTS.length];
      break;
    case 1:
      args.atRisk = true;
      args.churnRiskTier = CHURN_TIERS[i % CHURN_TIERS.length];
      break;
    case 2:
      args.engagementTier = ENGAGEMENT_TIERS[i % ENGAGEMENT_TIERS.length];
      break;
    case 3:
      args.rfmSegment = RFM_SEGMENTS[i % RFM_SEGMENTS.length];
      break;
    default:
      break;
  }
  args.limit = [10, 50, 100][i % 3];
  return args;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Calls find_users `calls` times over MCP (a real Client and the product's server joined
 * in memory) on a scored workspace, after one warm-up call, and returns the latencies.
 */
export async function measureFindUsers(workspaceFile: string, calls: number): Promise<ChildResult> {
  const ws = await Workspace.open({ path: workspaceFile });
  const server = createServer({ ws, paths: new PathPolicy([path.dirname(workspaceFile)]), outputDir: path.dirname(workspaceFile) });
  const client = new Client({ name: 'bench', version: '0.0.0' });
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverTransport), client.connect(clientTransport)]);
  const latencies: number[] = [];
  const errors: string[] = [];
  try {
    await client.callTool({ name: 'find_users', arguments: { limit: 10 } });
    for (let i = 0; i < calls; i++) {
      const args = sampleArguments(i);
      const started = performance.now();
      const result = await client.callTool({ name: 'find_users', arguments: args });
      latencies.push(performance.now() - started);
      if (result.isError) errors.push(`${JSON.stringify(args)}: ${JSON.stringify(result.content).slice(0, 200)}`);
    }
  } finally {
    await client.close();
    await server.close();
    ws.close();
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    stages: {},
    totalMs: latencies.reduce((sum, ms) => sum + ms, 0),
    maxRssKb: process.resourceUsage().maxRSS,
    calls,
    medianMs: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    maxMs: sorted[sorted.length - 1],
    errors,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.workspace) throw new Error('Usage: mcp-latency.js --workspace FILE.duckdb [--calls 50]');
  printResult(await measureFindUsers(path.resolve(args.workspace), Number(args.calls ?? 50)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`find_users latency run failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
