/** Wall time per named stage of one implementation run, measured inside the child process. */
export class StageTimer {
  readonly stages: Record<string, number> = {};
  private readonly started = performance.now();

  /** Runs `work` and adds its wall time in milliseconds to the stage `name`. */
  async time<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.stages[name] = (this.stages[name] ?? 0) + (performance.now() - start);
    }
  }

  /** Returns the result a child prints on stdout: stage times, total and peak resident memory in KiB. */
  result(extra: Record<string, unknown> = {}): ChildResult {
    return {
      stages: this.stages,
      totalMs: performance.now() - this.started,
      maxRssKb: process.resourceUsage().maxRSS,
      ...extra,
    };
  }
}

export interface ChildResult {
  readonly stages: Record<string, number>;
  readonly totalMs: number;
  readonly maxRssKb: number;
  readonly [key: string]: unknown;
}

/** Prints the result as the last stdout line, where the parent reads it. */
export function printResult(result: ChildResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
