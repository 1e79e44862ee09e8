import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { UserInputError, type Workspace } from '../workspace/index.js';

export type SourceFormat = 'csv' | 'parquet' | 'json' | 'ndjson';

export const SUPPORTED_EXTENSIONS = ['.csv', '.tsv', '.txt', '.parquet', '.json', '.ndjson', '.jsonl'];

const FORMAT_BY_EXTENSION: Record<string, SourceFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.parquet': 'parquet',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

const GLOB_CHARACTERS = /[*?[]/;

/**
 * Expands the requested paths (relative to the working directory) into existing files.
 * Globs are expanded by DuckDB's `glob()` with the pattern bound as a parameter.
 */
export async function resolveFiles(ws: Workspace, request: string | readonly string[]): Promise<string[]> {
  const patterns = typeof request === 'string' ? [request] : [...request];
  if (patterns.length === 0) throw new UserInputError('No file was given. Pass path as a file, a list of files or a glob.');

  const files: string[] = [];
  for (const pattern of patterns) {
    const absolute = path.resolve(pattern);
    if (GLOB_CHARACTERS.test(pattern)) {
      let rows: { file: string }[];
      try {
        rows = await ws.query<{ file: string }>('SELECT file FROM glob($1) ORDER BY file', [absolute]);
      } catch (error) {
        throw new UserInputError(
          `Could not list the files matching ${absolute}: ${(error as Error).message.split('\n')[0]}. ` +
            'Check that the directory exists and is one this server may read.',
        );
      }
      if (rows.length === 0) {
        throw new UserInputError(`No file matches the pattern ${absolute}. Check the directory and the pattern.`);
      }
      files.push(...rows.map((row) => row.file));
      continue;
    }
    let isFile = false;
    try {
      isFile = statSync(absolute).isFile();
    } catch {
      throw new UserInputError(`File not found: ${absolute}. Check the path (relative paths start at ${process.cwd()}).`);
    }
    if (!isFile) throw new UserInputError(`${absolute} is not a file. Pass a file, a list of files or a glob such as ${path.join(absolute, '*.csv')}.`);
    files.push(absolute);
  }
  return files;
}

/** Picks the format from the extension (a trailing `.gz` is ignored), or uses the requested one. */
export function detectFormat(files: readonly string[], requested: SourceFormat | undefined): SourceFormat {
  if (requested) return requested;
  const formats = new Set<SourceFormat>();
  for (const file of files) {
    const extension = path.extname(file.replace(/\.gz$/i, '')).toLowerCase();
    const format = FORMAT_BY_EXTENSION[extension];
    if (!format) {
      throw new UserInputError(
        `Cannot tell the format of ${file} from its extension '${extension || '(none)'}'. ` +
          `Supported extensions: ${SUPPORTED_EXTENSIONS.join(', ')} (each optionally followed by .gz), or pass format.`,
      );
    }
    formats.add(format);
  }
  if (formats.size > 1) {
    throw new UserInputError(`The files mix formats (${[...formats].join(', ')}). Load each format separately, using mode 'append'.`);
  }
  return [...formats][0];
}

export function isGzip(file: string): boolean {
  return /\.gz$/i.test(file);
}

/**
 * Checks what DuckDB reports badly: empty files, `.gz` files without the gzip magic
 * bytes, Parquet without its magic bytes, and text files that contain NUL bytes or invalid UTF-8.
 */
export function checkFileContents(file: string, format: SourceFormat): void {
  const size = statSync(file).size;
  if (size === 0) throw new UserInputError(`The file ${file} is empty. Check that the export finished writing.`);

  const head = readHead(file, 65536);
  if (isGzip(file)) {
    if (head[0] !== 0x1f || head[1] !== 0x8b) {
      throw new UserInputError(`The file ${file} ends in .gz but is not gzip-compressed. Rename it without .gz or compress it with gzip.`);
    }
    return;
  }
  if (format === 'parquet') {
    if (head.subarray(0, 4).toString('latin1') !== 'PAR1') {
      throw new UserInputError(`The file ${file} is not a Parquet file (it lacks the PAR1 header). Check the file or pass the right format.`);
    }
    return;
  }
  if (head.includes(0)) {
    throw new UserInputError(`The file ${file} is binary (it contains NUL bytes), not ${format} text. Check that it is the export you meant, or pass format.`);
  }
  try {
    // `stream: true` tolerates a multi-byte character cut at the end of the sample.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
  } catch {
    throw new UserInputError(`The file ${file} is not valid UTF-8 text. Convert it to UTF-8 and load it again.`);
  }
}

/**
 * Decompresses a `.gz` file to nowhere and raises a UserInputError when the stream is cut
 * short or corrupt. DuckDB 1.5 reads the rows before the cut and reports no error, so a
 * truncated download would otherwise load as a smaller file.
 */
export async function checkGzipComplete(file: string, signal?: AbortSignal): Promise<void> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    await pipeline(createReadStream(file), createGunzip(), discard, { signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new UserInputError(
      `The file ${file} is not a complete gzip stream (${(error as Error).message}); it is probably truncated. ` +
        'Download or compress it again, then load it.',
    );
  }
}

function readHead(file: string, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    const read = readSync(fd, buffer, 0, length, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
