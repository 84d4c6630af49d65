/** What a service's `deploy` gets besides the stack: how to reach the local services, and the assembly. */

export interface AwsClientConfig {
  region: string;
  /** The edge: deployments call the services' APIs, as CloudFormation does. */
  endpoint: string;
  /** The local cloud's own credentials (not checked; also handed to the functions). */
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface DeployContext {
  /** SDK client settings for the edge. */
  client: AwsClientConfig;
  /** The synthesized cloud assembly (the functions' bundles are under it). */
  assemblyDir: string;
  log: (line: string) => void;
}

/** A create call failed because the resource is there from an earlier start (data survives restarts). */
export function alreadyExists(error: unknown): boolean {
  const name = (error as Error).name;
  return name === 'ResourceInUseException' || name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists';
}
