import http from 'node:http';
import { DEFAULT_OEMS } from '../../../../tools/simulator/fleet';
import { closeServer, listen, readRequest, RequestTooLargeError, sendResponse } from '../../aws-protocol/http';
import type { LocalService, ServiceEnvironment } from '../../service';
import type { LocalIssuer } from '../apigateway/local-issuer';
import { oauthClientsFromTemplate } from './deploy';
import { LocalHostedUi } from './models';
import { hostedUiHandler } from './responses';

export interface CognitoService extends LocalService {
  /** The hosted UI's base URL: every user pool domain of the template is served here. */
  readonly url: string;
  readonly hostedUi: LocalHostedUi;
}

/**
 * Cognito's hosted UI on its own port (a user pool domain is its own origin on AWS too): the OAuth endpoints
 * for the template's app clients that allow the code grant, signing with the API's local issuer. It binds at
 * start: the stack's URLs (callbacks, config.json) need its address before anything is deployed.
 */
export async function startCognito(
  env: ServiceEnvironment,
  options: { port: number; issuer: () => LocalIssuer; signInOemId?: string },
): Promise<CognitoService> {
  const hostedUi = new LocalHostedUi();
  // The sign-in page offers the first OEM of `npm start`'s simulated fleet (seeded, so always the same).
  const defaultOemId = options.signInOemId ?? DEFAULT_OEMS[0];
  const handle = hostedUiHandler(hostedUi, options.issuer, defaultOemId);
  const server = http.createServer((req, res) => {
    void readRequest(req, 64 * 1024)
      .then(handle)
      .then(
        (response) => sendResponse(res, response),
        (error: Error) => {
          if (error instanceof RequestTooLargeError) {
            if (!res.headersSent) sendResponse(res, { status: 413, headers: { 'content-type': 'text/plain' }, body: 'Request too large\n' });
            return;
          }
          env.log(`cognito: ${req.method} ${req.url?.split('?')[0]} failed: ${error.message}`);
          if (!res.headersSent) sendResponse(res, { status: 500, headers: { 'content-type': 'text/plain' }, body: 'Internal error\n' });
        },
      );
  });
  const url = `http://127.0.0.1:${await listen(server, options.port)}`;
  return {
    name: 'cognito',
    url,
    hostedUi,
    deploy: async (stack) => hostedUi.setClients(oauthClientsFromTemplate(stack)),
    close: () => closeServer(server),
  };
}
