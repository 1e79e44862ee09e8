import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { UserInputError } from './errors.js';

const GLOB_CHARACTERS = /[*?[\]{}]/;

/**
 * The directories the server may read. A path is allowed when, after resolving it
 * against the working directory and following every symlink, it lies inside one of the
 * roots (also resolved). Glob patterns are checked through their fixed leading folder.
 */
export class PathPolicy {
  private readonly roots: string[];

  constructor(roots: readonly string[]) {
    this.roots = roots.map((root) => canonical(path.resolve(root)));
  }

  get allowedRoots(): readonly string[] {
    return this.roots;
  }

  withRoots(extra: readonly string[]): PathPolicy {
    return new PathPolicy([...this.roots, ...extra]);
  }

  /** Returns the absolute, symlink-free path, or throws a UserInputError naming the path and the roots. */
  resolveReadable(input: string): string {
    if (input.trim() === '') throw new UserInputError('The file path is empty. Give the path of a data file.');
    if (input.includes('\0')) throw new UserInputError(`The file path ${JSON.stringify(input)} contains a NUL byte.`);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) {
      throw new UserInputError(`"${input}" is a URL. Only local files are read: download the file into an allowed folder first.`);
    }
    const absolute = path.resolve(input);
    const isGlob = GLOB_CHARACTERS.test(absolute);
    const fixedPart = isGlob ? fixedPrefix(absolute) : absolute;
    if (!isGlob && !existsSync(absolute)) {
      throw new UserInputError(`File not found: ${absolute}. Check the path; relative paths start at ${process.cwd()}.`);
    }
    const real = existsSync(fixedPart) ? canonical(fixedPart) : fixedPart;
    if (!this.roots.some((root) => real === root || real.startsWith(root + path.sep))) {
      throw new UserInputError(
        `Access denied: ${absolute} is outside the allowed folders (${this.roots.join(', ') || 'none'}). ` +
          'Move the file into one of them, or start the server with --allow DIR for its folder.',
      );
    }
    return isGlob ? path.join(real, path.relative(fixedPart, absolute)) : real;
  }
}

function canonical(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The leading folders of a glob pattern up to the first segment with a wildcard. */
function fixedPrefix(pattern: string): string {
  const parts = pattern.split(path.sep);
  const index = parts.findIndex((part) => GLOB_CHARACTERS.test(part));
  return parts.slice(0, index).join(path.sep) || path.sep;
}
