// Copies the non-TypeScript files the compiled server reads at run time into dist/:
// the built-in segment rules (src/segments/catalog/*.seg) and the document templates.
import { cpSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const assets = [
  ['src/segments/catalog', 'dist/src/segments/catalog'],
  ['templates', 'dist/templates'],
];

for (const [from, to] of assets) {
  const source = path.join(root, from);
  if (!existsSync(source)) {
    console.error(`copy-assets: ${from} does not exist; nothing copied for it.`);
    continue;
  }
  cpSync(source, path.join(root, to), { recursive: true });
}
