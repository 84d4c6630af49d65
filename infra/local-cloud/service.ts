import type { ServiceHandler } from './aws-protocol/http';
import type { DeployContext } from './cloudformation/deploy';
import type { DeployedStack } from './cloudformation/template';

/**
 * What a service of the local cloud is: each `services/<name>/service.ts` returns one of these, and
 * `registry.ts` lists them. Kept apart from the registry so that services never import the list they are in.
 */

/** How the edge recognises a service's requests, as AWS itself tells them apart. */
export interface RequestMatcher {
  /** The SigV4 signing name of the credential scope (`…/us-east-1/<name>/aws4_request`). */
  signingName: string;
  /** JSON protocols: the `X-Amz-Target` prefixes (`DynamoDB_20120810` of `DynamoDB_20120810.Query`). */
  targetPrefixes?: readonly string[];
  /** Query protocol: the API version that tells an unsigned form POST apart (`Version=2010-05-08`). */
  queryVersion?: string;
  /** Answers unsigned requests no other service claims (S3: browsers, curl, presigned forms). */
  fallback?: boolean;
}

export interface LocalService {
  /** Its name on the edge and for `intercept` (`s3`, `dynamodb`, …). */
  readonly name: string;
  /** How the edge recognises its requests; none when it is not behind the edge (the HTTP API has its own port). */
  readonly matcher?: RequestMatcher;
  readonly handle?: ServiceHandler;
  /** Creates or updates the template's resources of the service's types. */
  deploy?(stack: DeployedStack, context: DeployContext): Promise<void>;
  close?(): Promise<void> | void;
}

/** Where the services keep their data, and what they know of the account. */
export interface ServiceEnvironment {
  dataDir: string;
  /** `<dataDir>/state`: the stand-ins' JSON state files. */
  stateDir: string;
  region: string;
  accountId: string;
  log: (line: string) => void;
}
