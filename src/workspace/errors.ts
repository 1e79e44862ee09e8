/**
 * An error caused by the caller's input (a file, a mapping, a rule, a setting). Its
 * message names the bad value and says what to do; tools return it as `isError: true`.
 */
export class UserInputError extends Error {
  constructor(
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** Raised when the caller cancels a long operation; the workspace is left as it was. */
export class CancelledError extends Error {
  constructor(message = 'The operation was cancelled; the workspace is unchanged.') {
    super(message);
    this.name = 'CancelledError';
  }
}
