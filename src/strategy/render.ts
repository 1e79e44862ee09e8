import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { Workspace } from '../workspace/index.js';
import { buildStrategyDocument, type StrategyDocument } from './document.js';

/** Finds the templates folder both from the TypeScript sources and from the built files in dist/. */
export function templatesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'templates');
    if (existsSync(path.join(candidate, 'strategy.md.hbs'))) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error('The templates folder (templates/strategy.md.hbs) was not found next to the package.');
}

function compile(): Handlebars.TemplateDelegate<StrategyDocument> {
  const dir = templatesDir();
  const engine = Handlebars.create();
  const partials = path.join(dir, 'partials');
  for (const file of readdirSync(partials)) {
    if (file.endsWith('.hbs')) engine.registerPartial(path.basename(file, '.hbs'), readFileSync(path.join(partials, file), 'utf8'));
  }
  // The output is Markdown, not HTML, so HTML escaping would corrupt names with & or <.
  return engine.compile<StrategyDocument>(readFileSync(path.join(dir, 'strategy.md.hbs'), 'utf8'), { noEscape: true });
}

/** Renders the "Segmentation Strategy" Markdown document from the scored workspace. */
export async function renderStrategy(ws: Workspace): Promise<{ markdown: string; document: StrategyDocument }> {
  const document = await buildStrategyDocument(ws);
  const markdown = compile()(document).replace(/\n{3,}/g, '\n\n');
  return { markdown, document };
}
