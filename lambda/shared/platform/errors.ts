/**
 * The one error hierarchy of the handlers.
 *
 * An `AppError` carries a message that is safe to show to the caller (`publicMessage`) and an
 * HTTP-like status. Anything that is not an `AppError` is unexpected: callers get a generic
 * message and the details go to a log line only.
 */
export class AppError extends Error {
  constructor(
    /** Safe to return to the caller: names no other tenant, no internals. */
    readonly publicMessage: string,
    readonly status: number,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(options?.detail ?? publicMessage, { cause: options?.cause });
    this.name = new.target.name;
  }
}

/** Input that fails validation. */
export class ValidationError extends AppError {
  constructor(publicMessage: string, options?: { cause?: unknown; detail?: string }) {
    super(publicMessage, 400, options);
  }
}

/** The caller is known but may not do this. */
export class ForbiddenError extends AppError {
  constructor(publicMessage: string, options?: { cause?: unknown; detail?: string }) {
    super(publicMessage, 403, options);
  }
}

/** A missing item, or one that belongs to someone else: callers cannot tell the two apart. */
export class NotFoundError extends AppError {
  constructor(publicMessage = 'Not found.', options?: { cause?: unknown; detail?: string }) {
    super(publicMessage, 404, options);
  }
}

/** A conditional write lost: the item already exists or is not in the expected state. */
export class ConflictError extends AppError {
  constructor(publicMessage: string, options?: { cause?: unknown; detail?: string }) {
    super(publicMessage, 409, options);
  }
}

/** A dependency failed or returned something we cannot trust. Never shown as is. */
export class InternalError extends AppError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('Internal error.', 500, { ...options, detail });
  }
}

/** Configuration missing or malformed at load time. Names the variable, never its value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The message a caller may see for any error. */
export function publicMessageOf(error: unknown): string {
  return error instanceof AppError && error.status < 500 ? error.publicMessage : 'Internal error.';
}
