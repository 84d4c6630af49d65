import type { DeployedStack } from '../../cloudformation/template';

/** An app client of the template that may use the hosted UI (authorization code grant). */
export interface OAuthClient {
  clientId: string;
  callbackUrls: string[];
  logoutUrls: string[];
  scopes: string[];
  /** Clients with a secret authenticate at the token endpoint; the local hosted UI serves public clients only. */
  hasSecret: boolean;
}

/**
 * `AWS::Cognito::UserPoolClient` with `AllowedOAuthFlows` including `code`: the clients the local hosted UI
 * signs in for, with their callback and sign-out URLs as the template gives them (localized: see
 * DeployedStack.localizeUrls).
 */
export function oauthClientsFromTemplate(stack: DeployedStack): OAuthClient[] {
  return stack.resourcesOfType('AWS::Cognito::UserPoolClient').flatMap(([id, resource]) => {
    const p = stack.resolve(resource.Properties ?? {}) as {
      AllowedOAuthFlows?: string[]; AllowedOAuthFlowsUserPoolClient?: boolean; CallbackURLs?: string[]; LogoutURLs?: string[];
      AllowedOAuthScopes?: string[]; GenerateSecret?: boolean;
    };
    if (!p.AllowedOAuthFlowsUserPoolClient || !p.AllowedOAuthFlows?.includes('code')) return [];
    return [{
      clientId: stack.ref(id),
      callbackUrls: p.CallbackURLs ?? [],
      logoutUrls: p.LogoutURLs ?? [],
      scopes: p.AllowedOAuthScopes ?? [],
      hasSecret: p.GenerateSecret === true,
    }];
  });
}
