/** A 1-based line and column inside a {@link Source}. */
export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

/**
 * The text of a rule file and the name it is reported under (a file path, or a label
 * such as "define_segment"). Tokens and nodes keep only offsets into `body`; line and
 * column are computed here when an error is reported.
 */
export class Source {
  constructor(
    readonly body: string,
    readonly name: string = 'rules',
  ) {}

  /** Converts a character offset into a line and column, counting `\r\n`, `\n` and `\r` as line ends. */
  locationOf(offset: number): SourceLocation {
    let line = 1;
    let lineStart = 0;
    const end = Math.min(offset, this.body.length);
    for (let i = 0; i < end; i++) {
      const char = this.body[i];
      if (char === '\n' || (char === '\r' && this.body[i + 1] !== '\n')) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: end - lineStart + 1 };
  }

  /** Returns the text of a 1-based line without its line ending. */
  lineText(line: number): string {
    return this.body.split(/\r\n|\n|\r/)[line - 1] ?? '';
  }
}
