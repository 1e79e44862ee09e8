export { Workspace, defaultWorkspacePath, quoteIdent, quoteLiteral } from './workspace.js';
export type { Row, SqlParams, SqlParamTypes, WorkspaceOptions } from './workspace.js';
export { UserInputError, CancelledError } from './errors.js';
export { log } from './log.js';
export type { Progress, ProgressReporter } from './progress.js';
export { noProgress } from './progress.js';
export { PathPolicy } from './paths.js';
