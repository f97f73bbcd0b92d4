import { Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import type {
  EnvironmentData,
  EnvironmentMessage,
  InvokeMessage,
} from './execution-environment-worker.js';
import { newLogStreamName } from './log-streams.js';

export interface ExecutionEnvironmentsOptions {
  /** The function's folder under `lambda/`. */
  readonly entry: string;
  /** Every line an environment prints, with the environment's log stream. */
  readonly onLine: (logStream: string, line: string) => void;
  /**
   * At most this many environments live at once: starting one more first stops the one idle
   * the longest (memory stays bounded however many tenants call). @default 32
   */
  readonly maxEnvironments?: number;
  /** An environment idle this long is stopped, as Lambda reclaims idle ones. @default 10 minutes */
  readonly idleMs?: number;
}

interface Environment {
  readonly worker: Worker;
  readonly logStreamName: string;
  readonly pending: Map<number, { resolve(result: unknown): void; reject(error: Error): void }>;
  lastUsed: number;
}

/**
 * Lambda tenant isolation for the local gateway: a PER_TENANT function's invocations run in
 * execution environments of their tenant id only. Lambda finds an environment of the
 * invocation's tenant id or creates one, and never lets an environment serve another tenant
 * id; here each tenant id gets one worker thread with the real handler loaded fresh (its own
 * module state), started by its first invocation and reused by the next ones, and stopped when
 * the gateway stops. Each has its own log stream, as each Lambda environment does.
 *
 * A start-up costs a module load of the handler (about a second), paid once per tenant id:
 * the cold start each isolated tenant also pays on AWS.
 */
export class ExecutionEnvironments<Event, Result> {
  private readonly environments = new Map<string, Environment>();
  private readonly maxEnvironments: number;
  private readonly idleMs: number;
  private readonly reaper: NodeJS.Timeout;
  private nextId = 0;
  private stopped = false;

  constructor(private readonly options: ExecutionEnvironmentsOptions) {
    this.maxEnvironments = options.maxEnvironments ?? 32;
    this.idleMs = options.idleMs ?? 10 * 60_000;
    this.reaper = setInterval(() => this.reapIdle(), Math.min(this.idleMs, 60_000));
    this.reaper.unref();
  }

  /** Runs the invocation in an environment of its tenant id (`context.tenantId`). */
  invoke(event: Event, context: Context): Promise<Result> {
    const tenantId = context.tenantId;
    if (this.stopped) return Promise.reject(new Error('the execution environments are stopped'));
    // Lambda's InvalidParameterValueException: a PER_TENANT function needs a tenant id.
    if (tenantId === undefined || tenantId === '') {
      return Promise.reject(
        new Error(`lambda/${this.options.entry} is PER_TENANT: an invocation needs a tenant id`),
      );
    }
    const environment = this.environments.get(tenantId) ?? this.start(tenantId);
    environment.lastUsed = Date.now();
    const id = this.nextId++;
    const message: InvokeMessage = {
      id,
      event,
      tenantId,
      awsRequestId: context.awsRequestId,
      remainingMs: context.getRemainingTimeInMillis(),
    };
    return new Promise<Result>((resolve, reject) => {
      environment.pending.set(id, { resolve: (result) => resolve(result as Result), reject });
      environment.worker.postMessage(message);
    });
  }

  /** Stops every environment (their in-flight invocations fail). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.reaper);
    const environments = [...this.environments.values()];
    this.environments.clear();
    await Promise.all(environments.map((env) => env.worker.terminate()));
  }

  private start(tenantId: string): Environment {
    if (this.environments.size >= this.maxEnvironments) this.stopLeastRecentlyUsed();
    const logStreamName = newLogStreamName();
    const data: EnvironmentData = { entry: this.options.entry, logStreamName };
    const worker = new Worker(BOOTSTRAP, {
      workerData: data,
      // Its own copy of the process environment, with the runtime's name of its log stream.
      env: { ...process.env, AWS_LAMBDA_LOG_STREAM_NAME: logStreamName },
      // The handler is TypeScript: the worker registers tsx itself (BOOTSTRAP).
      execArgv: [],
    });
    const environment: Environment = {
      worker,
      logStreamName,
      pending: new Map(),
      lastUsed: Date.now(),
    };
    const fail = (error: Error) => {
      if (this.environments.get(tenantId) === environment) this.environments.delete(tenantId);
      for (const { reject } of environment.pending.values()) reject(error);
      environment.pending.clear();
    };
    worker.on('message', (message: EnvironmentMessage) => {
      if (message.type === 'log') {
        this.options.onLine(logStreamName, message.line);
        return;
      }
      const waiting = environment.pending.get(message.id);
      environment.pending.delete(message.id);
      if (message.type === 'result') waiting?.resolve(message.result);
      else waiting?.reject(Object.assign(new Error(message.error.message), message.error));
    });
    // An environment whose init failed, or that crashed, is gone: the next invocation of its
    // tenant starts a fresh one, as Lambda does after an init error.
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the environment exited with code ${code}`)));
    this.environments.set(tenantId, environment);
    return environment;
  }

  private stopLeastRecentlyUsed(): void {
    const idle = [...this.environments]
      .filter(([, env]) => env.pending.size === 0)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    const [oldest] = idle;
    if (!oldest) return;
    this.environments.delete(oldest[0]);
    void oldest[1].worker.terminate();
  }

  private reapIdle(): void {
    const now = Date.now();
    for (const [tenantId, env] of this.environments) {
      if (env.pending.size > 0 || now - env.lastUsed < this.idleMs) continue;
      this.environments.delete(tenantId);
      void env.worker.terminate();
    }
  }
}

/**
 * The worker's first module: registers tsx in the worker (loader hooks registered by the
 * gateway's `--import tsx` do not reach worker threads on Node 20), then loads the environment.
 */
const BOOTSTRAP = new URL(
  `data:text/javascript,${encodeURIComponent(
    [
      `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
      'register();',
      `await import(${JSON.stringify(new URL('./execution-environment-worker.ts', import.meta.url).href)});`,
    ].join('\n'),
  )}`,
);
