import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pluggable } from '@smithy/types';
import { AppError } from './errors.js';

/**
 * What one invocation's work carries with it, wherever it goes (tools, the AWS SDK, outbound
 * requests): the signal that aborts it at the deadline, and whether tenant work has started.
 * Held in an AsyncLocalStorage, so it follows the invocation's own promises only: work of a
 * timed-out invocation that is still pending when the next invocation runs sees its own,
 * aborted scope, and every AWS call or webhook it then tries is refused at once.
 */
export class RequestScope {
  private workStarted = false;

  constructor(readonly signal: AbortSignal) {}

  /** Called where a tool, resource or prompt handler begins: the call was served. */
  startWork(): void {
    this.workStarted = true;
  }

  get served(): boolean {
    return this.workStarted;
  }
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runInScope<T>(scope: RequestScope, work: () => Promise<T>): Promise<T> {
  return storage.run(scope, work);
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/** The work of an invocation whose deadline has passed; never shown to a caller as such. */
export class WorkAbortedError extends AppError {
  constructor() {
    super('The request was stopped at its deadline.', 504);
  }
}

/**
 * An AWS SDK plugin: a call made in a request scope whose signal has aborted fails at once, and
 * a call in flight when it aborts is given up (its answer is ignored). Added to every client the
 * MCP function uses, so no AWS call of an invocation is made after its deadline.
 */
export function abortWithRequest<Input extends object, Output extends object>(): Pluggable<
  Input,
  Output
> {
  return {
    applyToStack(stack) {
      // Around the whole call, retries included: give up at the deadline.
      stack.add(
        (next) => async (args) => {
          const signal = currentScope()?.signal;
          if (!signal) return next(args);
          if (signal.aborted) throw new WorkAbortedError();
          let onAbort: (() => void) | undefined;
          const aborted = new Promise<never>((_, reject) => {
            onAbort = () => reject(new WorkAbortedError());
            signal.addEventListener('abort', onAbort, { once: true });
          });
          try {
            return await Promise.race([next(args), aborted]);
          } finally {
            if (onAbort) signal.removeEventListener('abort', onAbort);
          }
        },
        { step: 'initialize', name: 'abortWithRequest', override: true },
      );
      // Before each attempt (below the retry middleware): a retry the SDK would still make
      // after the deadline, in this invocation or the next, is never sent.
      stack.add(
        (next) => async (args) => {
          if (currentScope()?.signal.aborted) throw new WorkAbortedError();
          return next(args);
        },
        {
          step: 'finalizeRequest',
          priority: 'low',
          name: 'abortWithRequestAttempt',
          override: true,
        },
      );
    },
  };
}
