/** One step of a long operation, reported to MCP progress notifications or the CLI. */
export interface Progress {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}

/** Long operations take a reporter and an abort signal; both are optional for callers. */
export interface ProgressReporter {
  report(progress: Progress): void;
  readonly signal?: AbortSignal;
}

export const noProgress: ProgressReporter = { report: () => undefined };
