/**
 * Returns the options that look like a misspelling of `input`, closest first: those
 * within an edit distance of about 40% of the input's length, plus those that differ
 * only in letter case or that contain the input.
 */
export function suggestionList(input: string, options: Iterable<string>): string[] {
  const lowerInput = input.toLowerCase();
  const threshold = Math.max(1, Math.floor(input.length * 0.4));
  const scored: { option: string; distance: number }[] = [];

  for (const option of new Set(options)) {
    const lowerOption = option.toLowerCase();
    if (option === input) continue;
    let distance: number;
    if (lowerOption === lowerInput) distance = 0;
    else if (lowerInput.length >= 3 && lowerOption.includes(lowerInput)) distance = 1;
    else distance = editDistance(lowerInput, lowerOption);
    if (distance <= threshold) scored.push({ option, distance });
  }

  scored.sort((a, b) => a.distance - b.distance || a.option.localeCompare(b.option));
  return scored.map((entry) => entry.option);
}

/** Formats up to five suggestions as ` Did you mean "a", "b" or "c"?`, or an empty string. */
export function didYouMean(suggestions: readonly string[]): string {
  const quoted = suggestions.slice(0, 5).map((s) => `"${s}"`);
  if (quoted.length === 0) return '';
  if (quoted.length === 1) return ` Did you mean ${quoted[0]}?`;
  return ` Did you mean ${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}?`;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > Math.max(a.length, b.length) / 2 + 2) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) rows[i][j] = i === 0 ? j : 0;
  }
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2][j - 2] + 1);
      }
      rows[i][j] = best;
    }
  }
  return rows[a.length][b.length];
}
