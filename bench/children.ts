import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';
import type { ChildResult } from './stages.js';

/** Debian's interpreter, the one that has python3-pandas; the python3 first on PATH may be another. */
export const PANDAS_PYTHON = '/usr/bin/python3';

/** Runs a command, passes its stderr through on failure, and parses the JSON object on the last stdout line. */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot(),
      env: { ...process.env, SEGMENTATION_MCP_LOG: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = stdout.trim().split('\n');
      if (code !== 0) {
        reject(new Error(`${path.basename(command)} ${args.join(' ')} exited with code ${code}:\n${stderr.trim().slice(-4000)}`));
        return;
      }
      try {
        resolve(JSON.parse(lines[lines.length - 1]) as ChildResult);
      } catch {
        reject(new Error(`${path.basename(command)} ${args.join(' ')} printed no result line:\n${stdout.slice(-2000)}`));
      }
    });
  });
}

function script(name: string): string {
  return path.join(repoRoot(), 'dist', 'bench', `${name}.js`);
}

export function runProductChild(dataDir: string, outDir: string): Promise<ChildResult> {
  return runChild(process.execPath, [script('product'), '--data', dataDir, '--out', outDir]);
}

export function runHandChild(dataDir: string, outFile: string): Promise<ChildResult> {
  return runChild(process.execPath, [script('hand'), '--data', dataDir, '--out', outFile]);
}

export function runPandasChild(csvDir: string, outFile: string): Promise<ChildResult> {
  return runChild(PANDAS_PYTHON, [path.join(repoRoot(), 'bench', 'pandas_impl.py'), '--data', csvDir, '--out', outFile]);
}

export function runLatencyChild(workspaceFile: string, calls: number): Promise<ChildResult> {
  return runChild(process.execPath, [script('mcp-latency'), '--workspace', workspaceFile, '--calls', String(calls)]);
}

/** Returns the pandas version of /usr/bin/python3, or undefined when the interpreter or pandas is missing. */
export async function pandasVersion(): Promise<string | undefined> {
  if (!existsSync(PANDAS_PYTHON)) return undefined;
  return new Promise((resolve) => {
    const child = spawn(PANDAS_PYTHON, ['-c', 'import pandas; print(pandas.__version__)'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? out.trim() : undefined));
  });
}
