/**
 * Typed errors with stable codes. Everything that reaches a user is one of these;
 * anything else is a bug and is reported as "internal error" without a stack trace.
 */
export type ErrorCode = 'usage' | 'bundle_invalid' | 'bundle_unreadable' | 'source_failed' | 'internal';

export class KproxyError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad command-line arguments or request parameters. */
export class UsageError extends KproxyError {
  constructor(message: string) {
    super('usage', message);
  }
}

/** A bundle file exists but is not what the format says it must be. Names the file. */
export class BundleError extends KproxyError {
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('bundle_invalid', `${file}: ${problem}`, options);
    this.file = file;
  }
}

/** One line for a human, never a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof KproxyError) return error.message;
  if (error instanceof Error) return `internal error: ${error.message}`;
  return `internal error: ${String(error)}`;
}

/** The message of any thrown value, for logs (which already say where it happened). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
