'use strict';
// Runs one Lambda bundle in a worker thread, like one Lambda execution environment:
// module init once (the cold start), then one invocation at a time.
const { parentPort, workerData } = require('node:worker_threads');
const path = require('node:path');

process.setSourceMapsEnabled?.(true);

const { assetDir, handler: handlerSpec, functionName, functionArn, memoryMb, logGroupName } = workerData;
const dot = handlerSpec.lastIndexOf('.');
const modulePath = path.join(assetDir, handlerSpec.slice(0, dot));
const exportName = handlerSpec.slice(dot + 1);

function describe(error) {
  if (error instanceof Error) return { errorType: error.name, errorMessage: error.message, trace: String(error.stack || '').split('\n') };
  return { errorType: 'Error', errorMessage: String(error), trace: [] };
}

let handler;
let initError;
const initStart = performance.now();
try {
  handler = require(modulePath)[exportName];
  if (typeof handler !== 'function') {
    initError = { errorType: 'Runtime.HandlerNotFound', errorMessage: `${handlerSpec} is undefined or not exported`, trace: [] };
  }
} catch (error) {
  initError = { ...describe(error), errorType: 'Runtime.ImportModuleError' };
}
parentPort.postMessage({ type: 'ready', initMs: performance.now() - initStart, error: initError });

parentPort.on('message', async ({ id, event, requestId, deadline }) => {
  if (initError) return parentPort.postMessage({ type: 'result', id, ok: false, error: initError });
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: requestId,
    logGroupName,
    logStreamName: `local/${functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done() {}, fail() {}, succeed() {},
  };
  try {
    const result = handler.length >= 3
      ? await new Promise((resolve, reject) => {
          const maybe = handler(event, context, (err, value) => (err ? reject(err) : resolve(value)));
          if (maybe && typeof maybe.then === 'function') maybe.then(resolve, reject);
        })
      : await handler(event, context);
    parentPort.postMessage({ type: 'result', id, ok: true, payload: result === undefined ? 'null' : JSON.stringify(result) });
  } catch (error) {
    parentPort.postMessage({ type: 'result', id, ok: false, error: describe(error) });
  }
});
