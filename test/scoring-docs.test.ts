import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test } from 'vitest';
import { DEFAULT_SETTINGS } from '../src/scoring/index.js';
import { bandReferenceTable, tierReferenceTable } from '../src/scoring/reference.js';
import { rfmSegmentTable } from '../src/scoring/rfm.js';

const doc = readFileSync(path.join(import.meta.dirname, '..', 'docs', 'scoring.md'), 'utf8');

test('band table matches defaults', () => {
  expect(doc).toContain(bandReferenceTable(DEFAULT_SETTINGS));
});

test('tier table matches defaults', () => {
  expect(doc).toContain(tierReferenceTable(DEFAULT_SETTINGS));
});

test('RFM map table matches code', () => {
  expect(doc).toContain(rfmSegmentTable());
});
