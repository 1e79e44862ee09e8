import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from './errors.js';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/** Kernel pseudo-file systems. They hold no data files, and some of their files never end (/dev/zero). */
const SYSTEM_FOLDERS = ['/proc', '/sys', '/dev'];

/**
 * The directories the server may read. A path is allowed when, after resolving it
 * against the working directory and following every symlink, it lies inside one of the
 * roots (also resolved). Glob patterns are checked through their fixed leading folder;
 * DuckDB's own lockdown then rejects any matched file that is a symlink leading outside.
 *
 * Roots come from two places: the command line (fixed) and the MCP client's roots
 * (replaced whenever the client's list changes).
 */
export class PathPolicy {
  private readonly fixedRoots: string[];
  private clientRoots: string[] = [];
  private deniedNote: string | undefined;

  constructor(roots: readonly string[]) {
    this.fixedRoots = unique(roots.map((root) => canonical(path.resolve(root))));
  }

  /** Every allowed root, resolved: the command-line roots first, then the client's. */
  get allowedRoots(): readonly string[] {
    return unique([...this.fixedRoots, ...this.clientRoots]);
  }

  /** Creates a new policy with these roots added to the fixed ones. */
  withRoots(extra: readonly string[]): PathPolicy {
    return new PathPolicy([...this.allowedRoots, ...extra]);
  }

  /**
   * Replaces the roots that came from the MCP client; the command-line roots stay.
   * `note` is appended to every access-denied message, to explain client roots that
   * could not be granted.
   */
  setClientRoots(roots: readonly string[], note?: string): void {
    this.clientRoots = unique(roots.map((root) => canonical(path.resolve(root))));
    this.deniedNote = note;
  }

  /** Checks whether an absolute, symlink-free path lies inside one of the roots. */
  contains(resolved: string): boolean {
    return this.allowedRoots.some((root) => isInside(resolved, root));
  }

  /**
   * Returns the absolute, symlink-free path of a file to read (or, for a glob, the pattern
   * with its fixed folder resolved), or throws a UserInputError naming the path and the roots.
   * The roots are checked before existence, so a caller learns nothing about files outside them.
   */
  resolveReadable(input: string): string {
    if (input.trim() === '') throw new UserInputError('The file path is empty. Give the path of a data file.');
    if (input.includes('\0')) {
      throw new UserInputError(`The file path ${JSON.stringify(input)} contains a NUL byte. Remove it and give the plain path.`);
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
      throw new UserInputError(`"${input}" is a URL. Only local files are read: download the file into an allowed folder first.`);
    }

    const absolute = path.resolve(input);
    const isGlob = GLOB_CHARACTERS.test(absolute) && !existsSync(absolute);
    const fixedPart = isGlob ? fixedPrefix(absolute) : absolute;
    const resolved = resolveExisting(fixedPart);
    this.checkInside(absolute, resolved);

    if (isGlob) return path.join(resolved, path.relative(fixedPart, absolute));
    let isFile: boolean;
    try {
      isFile = statSync(resolved).isFile();
    } catch {
      throw new UserInputError(`File not found: ${absolute}. Check the path; relative paths start at ${process.cwd()}.`);
    }
    if (!isFile) {
      throw new UserInputError(
        `${absolute} is not a regular file (a folder, device or pipe). Give a data file, or a glob such as ${path.join(absolute, '*.csv')}.`,
      );
    }
    return resolved;
  }

  private checkInside(requested: string, resolved: string): void {
    const system = SYSTEM_FOLDERS.find((folder) => isInside(resolved, folder));
    if (system) {
      throw new UserInputError(
        `Access denied: ${requested} is in ${system}, which holds system and device files, not data. Give the path of a data file.`,
      );
    }
    if (this.contains(resolved)) return;

    const via = resolved === requested ? '' : ` (it resolves to ${resolved})`;
    const roots = this.allowedRoots.join(', ') || 'none';
    throw new UserInputError(
      `Access denied: ${requested}${via} is outside the allowed folders (${roots}). ` +
        'Move the file into one of them, add its folder to the client\'s roots, or start the server with --allow DIR for its folder.' +
        (this.deniedNote ? ` ${this.deniedNote}` : ''),
    );
  }
}

function isInside(resolved: string, root: string): boolean {
  if (resolved === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return resolved.startsWith(prefix);
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Resolves the symlinks of the longest existing leading part of a path and appends the
 * rest, so that a missing file under a symlinked folder is judged by where the folder leads.
 */
function resolveExisting(absolute: string): string {
  let existing = absolute;
  const rest: string[] = [];
  while (!existsSync(existing)) {
    const parent = path.dirname(existing);
    if (parent === existing) break;
    rest.unshift(path.basename(existing));
    existing = parent;
  }
  return path.join(canonical(existing), ...rest);
}

/** Returns the leading folders of a glob pattern, up to the first segment with a wildcard. */
function fixedPrefix(pattern: string): string {
  const parts = pattern.split(path.sep);
  const index = parts.findIndex((part) => GLOB_CHARACTERS.test(part));
  return parts.slice(0, index).join(path.sep) || path.sep;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
