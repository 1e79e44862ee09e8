#!/usr/bin/env node
// Drives the built server (dist/src/cli.js) with the MCP Inspector CLI, over stdio and
// over Streamable HTTP, and checks the results. The Inspector CLI needs Node 22; it runs
// on the binary of the `node` devDependency, while the server runs on the Node that runs
// npm. Run `npm run build` first (`npm run inspect` does).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const node22 = path.join(path.dirname(require.resolve('node/package.json')), 'bin', 'node');
const inspector = path.join(path.dirname(require.resolve('@modelcontextprotocol/inspector/package.json')), 'clients', 'launcher', 'build', 'index.js');
// npm puts node_modules/.bin (and so Node 22) first on PATH; npm_node_execpath is the Node that runs npm itself.
const serverNode = process.env.npm_node_execpath ?? process.execPath;
const cli = path.join(root, 'dist', 'src', 'cli.js');

class CheckFailed extends Error {}

if (!existsSync(cli)) fail(`${cli} is missing: run npm run build first.`);
if (!existsSync(node22)) fail(`${node22} is missing: run npm install (the node devDependency provides Node 22).`);

const work = mkdtempSync(path.join(tmpdir(), 'segmentation-inspect-'));
// The Inspector keeps a catalog of servers; pointing it into the temporary folder leaves ~/.mcp-inspector alone.
const inspectorEnv = { ...process.env, MCP_CATALOG_PATH: path.join(work, 'catalog.json') };
const events = path.join(work, 'events.csv');
writeFileSync(events, 'user_id,event,timestamp\nu1,login,2024-03-01T10:00:00Z\nu2,view,2024-03-02T11:30:00Z\n');
const serverArgs = ['serve', '--workspace', ':memory:', '--allow', work];

try {
  const stdioTarget = [serverNode, cli, ...serverArgs];
  checkStdio(stdioTarget);
  await checkHttp();
  console.log('inspect: all checks passed');
} catch (error) {
  console.error(`inspect: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}

function checkStdio(target) {
  const listed = inspect([...target, '--method', 'tools/list']);
  const names = listed.tools.map((tool) => tool.name);
  expect(names.includes('load_data'), `tools/list lacks load_data: ${names}`);
  expect(names.includes('describe_data'), `tools/list lacks describe_data: ${names}`);
  console.log(`stdio tools/list: ${names.join(', ')}`);

  const loaded = inspect([...target, '--method', 'tools/call', '--tool-name', 'load_data', '--tool-arg', 'table=events', `path=${events}`]);
  expect(!loaded.isError, `load_data failed: ${JSON.stringify(loaded)}`);
  expect(loaded.structuredContent?.rowsLoaded === 2, `load_data did not load 2 rows: ${JSON.stringify(loaded)}`);
  console.log(`stdio tools/call load_data: ${loaded.content[0].text}`);

  // The Inspector CLI exits with status 5 when the tool returns isError: true.
  const denied = inspect([...target, '--method', 'tools/call', '--tool-name', 'load_data', '--tool-arg', 'table=events', 'path=/etc/passwd'], 5);
  expect(denied.isError === true, `reading /etc/passwd did not fail: ${JSON.stringify(denied)}`);
  expect(/outside the allowed folders/.test(denied.content[0].text), `the error does not name the allowed folders: ${denied.content[0].text}`);
  console.log(`stdio tools/call load_data /etc/passwd: ${denied.content[0].text}`);
}

async function checkHttp() {
  const server = spawn(serverNode, [cli, ...serverArgs, '--http', '--port', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, SEGMENTATION_MCP_LOG: 'warn' },
  });
  try {
    const url = await printedUrl(server);
    const listed = inspect([url, '--transport', 'http', '--method', 'tools/list']);
    expect(listed.tools.some((tool) => tool.name === 'describe_data'), 'HTTP tools/list lacks describe_data');
    const described = inspect([url, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'describe_data']);
    expect(!described.isError, `HTTP describe_data failed: ${JSON.stringify(described)}`);
    console.log(`http ${url} tools/call describe_data: ${described.content[0].text.slice(0, 120)}`);
  } finally {
    server.kill('SIGTERM');
  }
}

function inspect(args, expectedStatus = 0) {
  const result = spawnSync(node22, [inspector, '--cli', ...args], { cwd: root, env: inspectorEnv, encoding: 'utf8', timeout: 120_000 });
  if (result.status !== expectedStatus) fail(`inspector ${args.join(' ')} exited with ${result.status}:\n${result.stderr}`);
  try {
    return JSON.parse(result.stdout);
  } catch {
    fail(`inspector ${args.join(' ')} printed no JSON:\n${result.stdout}\n${result.stderr}`);
  }
}

function printedUrl(child) {
  return new Promise((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`the HTTP server printed no URL within 30 s:\n${stderr}`)), 30_000);
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`the HTTP server exited with ${code}:\n${stderr}`)));
  });
}

function expect(condition, message) {
  if (!condition) fail(message);
}

function fail(message) {
  throw new CheckFailed(message);
}
