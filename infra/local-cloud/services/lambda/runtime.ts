import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';

export interface LambdaFunctionDefinition {
  logicalId: string;
  name: string;
  arn: string;
  /** Directory of the function's bundle, as it would be uploaded to Lambda. */
  assetDir: string;
  /** `file.export`, as in the template's `Handler`. */
  handler: string;
  /** The function's own environment from the template, resolved. */
  environment: Record<string, string>;
  timeoutSeconds: number;
  memoryMb: number;
  logGroupName: string;
}

export interface InvocationError {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

export type InvocationResult =
  | { ok: true; payload: unknown; requestId: string }
  | { ok: false; error: InvocationError; requestId: string };

interface WorkerMessage {
  type: 'ready' | 'result';
  id?: string;
  ok?: boolean;
  payload?: string;
  error?: InvocationError;
  initMs?: number;
}

interface PendingInvocation {
  event: unknown;
  resolve: (result: InvocationResult) => void;
}

class ExecutionEnvironment {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  private inFlight: { id: string; settle: (result: InvocationResult) => void; timer: NodeJS.Timeout } | undefined;
  dead = false;

  constructor(
    private readonly fn: LambdaFunctionDefinition,
    env: Record<string, string>,
    private readonly onLog: (line: string) => void,
    private readonly onExit: (environment: ExecutionEnvironment) => void,
  ) {
    this.worker = new Worker(path.join(__dirname, 'lambda-worker.cjs'), {
      env,
      stdout: true,
      stderr: true,
      workerData: {
        assetDir: fn.assetDir,
        handler: fn.handler,
        functionName: fn.name,
        functionArn: fn.arn,
        memoryMb: fn.memoryMb,
        logGroupName: fn.logGroupName,
      },
      resourceLimits: { maxOldGenerationSizeMb: Math.max(fn.memoryMb, 128) },
    });
    for (const stream of [this.worker.stdout, this.worker.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.onLog(line));
    }
    this.ready = new Promise((resolve) => {
      const onMessage = (message: WorkerMessage): void => {
        if (message.type === 'ready') {
          this.worker.off('message', onMessage);
          resolve();
        }
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', () => resolve());
    });
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type !== 'result' || !this.inFlight || message.id !== this.inFlight.id) return;
      const result: InvocationResult = message.ok
        ? { ok: true, payload: JSON.parse(message.payload ?? 'null') as unknown, requestId: message.id }
        : { ok: false, error: message.error!, requestId: message.id };
      this.finish(result);
    });
    this.worker.on('error', (error) => this.die({ errorType: 'Runtime.ExitError', errorMessage: error.message, trace: (error.stack ?? '').split('\n') }));
    this.worker.on('exit', (code) => this.die({ errorType: 'Runtime.ExitError', errorMessage: `Runtime exited with code ${code}`, trace: [] }));
  }

  async invoke(event: unknown): Promise<InvocationResult> {
    await this.ready;
    const id = randomUUID();
    if (this.dead) return { ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited during init', trace: [] }, requestId: id };
    const timeoutMs = this.fn.timeoutSeconds * 1000;
    return new Promise((settle) => {
      const timer = setTimeout(() => {
        // As on Lambda: a timed-out environment is thrown away, not reused.
        this.finish({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`, trace: [] }, requestId: id });
        void this.worker.terminate();
      }, timeoutMs);
      this.inFlight = { id, settle, timer };
      this.worker.postMessage({ id, event, requestId: id, deadline: Date.now() + timeoutMs });
    });
  }

  private finish(result: InvocationResult): void {
    const current = this.inFlight;
    if (!current) return;
    this.inFlight = undefined;
    clearTimeout(current.timer);
    current.settle(result);
  }

  private die(error: InvocationError): void {
    if (this.dead) return;
    this.dead = true;
    if (this.inFlight) this.finish({ ok: false, error, requestId: this.inFlight.id });
    this.onExit(this);
  }
}

/**
 * One Lambda function: up to `maxConcurrency` execution environments (worker threads), each
 * running the bundle with only the function's environment, one invocation at a time.
 */
export class LambdaFunctionRuntime {
  private readonly idle: ExecutionEnvironment[] = [];
  private readonly all = new Set<ExecutionEnvironment>();
  private readonly queue: PendingInvocation[] = [];
  private closed = false;

  constructor(
    readonly definition: LambdaFunctionDefinition,
    private readonly awsEnvironment: Record<string, string>,
    private readonly onLog: (functionLogicalId: string, line: string) => void,
    private readonly maxConcurrency = 4,
  ) {}

  invoke(event: unknown): Promise<InvocationResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: { errorType: 'ServiceException', errorMessage: 'local cloud is stopping', trace: [] }, requestId: randomUUID() });
    return new Promise((resolve) => {
      this.queue.push({ event, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let environment = this.idle.pop();
      if (!environment) {
        if (this.all.size >= this.maxConcurrency) return;
        environment = this.spawn();
      }
      const next = this.queue.shift()!;
      const chosen = environment;
      void chosen.invoke(next.event).then((result) => {
        next.resolve(result);
        if (!chosen.dead && !this.closed) this.idle.push(chosen);
        this.dispatch();
      });
    }
  }

  private spawn(): ExecutionEnvironment {
    const env = {
      ...this.awsEnvironment,
      AWS_LAMBDA_FUNCTION_NAME: this.definition.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.definition.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: this.definition.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/${this.definition.name}`,
      LAMBDA_TASK_ROOT: this.definition.assetDir,
      TZ: 'UTC',
      ...this.definition.environment,
    };
    const environment = new ExecutionEnvironment(this.definition, env, (line) => this.onLog(this.definition.logicalId, line), (gone) => {
      this.all.delete(gone);
      const at = this.idle.indexOf(gone);
      if (at >= 0) this.idle.splice(at, 1);
      if (!this.closed) this.dispatch();
    });
    this.all.add(environment);
    return environment;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) {
      pending.resolve({ ok: false, error: { errorType: 'ServiceException', errorMessage: 'local cloud is stopping', trace: [] }, requestId: randomUUID() });
    }
    await Promise.all([...this.all].map((e) => e.worker.terminate()));
    this.all.clear();
  }
}
