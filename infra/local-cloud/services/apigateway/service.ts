import path from 'node:path';
import type { LocalService, ServiceEnvironment } from '../../service';
import type { LambdaService } from '../lambda/service';
import { httpApiFromTemplate } from './deploy';
import { LocalHttpApi } from './http-api';
import { LocalIssuer } from './local-issuer';

export interface ApiGatewayService extends LocalService {
  /** Where the HTTP API answers (the template's `ApiEndpoint`). */
  readonly url: string;
  /** The stand-in for the user pool, once the template is deployed. */
  readonly issuer: LocalIssuer;
}

/**
 * API Gateway: the template's HTTP API on its own port (not behind the edge), its routes invoking the
 * functions, its JWT authorizer checking tokens of the local issuer (key in `<dataDir>/issuer.json`).
 * It binds at start: the stack needs its URL before anything is deployed.
 */
export async function startApiGateway(env: ServiceEnvironment, options: { port: number; functions: Pick<LambdaService, 'functionByArn'> }): Promise<ApiGatewayService> {
  const api = new LocalHttpApi((line) => env.log(`api: ${line}`));
  const url = `http://127.0.0.1:${await api.start(options.port)}`;
  let issuer: LocalIssuer | undefined;
  return {
    name: 'apigateway',
    url,
    get issuer(): LocalIssuer {
      if (!issuer) throw new Error('the HTTP API is not deployed yet');
      return issuer;
    },
    deploy: async (stack, context) => {
      const { routes, authorizer, apiId, stage, cors } = httpApiFromTemplate(stack, options.functions.functionByArn, context.log);
      issuer = await LocalIssuer.open(path.join(env.dataDir, 'issuer.json'), authorizer?.issuer ?? `${url}/local-issuer`, authorizer?.audience ?? ['local']);
      api.configure({ apiId, stage, routes, publicJwk: issuer.file.publicJwk, accountId: stack.env.accountId, ...(cors ? { cors } : {}) });
    },
    close: () => api.stop(),
  };
}
