export { renderStrategy, templatesDir } from './render.js';
export { buildStrategyDocument, MIN_SEGMENT_SIZE } from './document.js';
export type { StrategyDocument } from './document.js';
