import type { LocalService } from '../../service';
import type { LocalIam } from './models';
import { iamHandler } from './responses';

export interface IamService extends LocalService {
  /** The users and keys, and the credential store of every other service. */
  readonly store: LocalIam;
}

/** IAM on the edge: signed as `iam`, or an unsigned form POST with IAM's API version. */
export function iamService(store: LocalIam): IamService {
  return {
    name: 'iam',
    matcher: { signingName: 'iam', queryVersion: '2010-05-08' },
    handle: iamHandler(store),
    store,
    close: () => store.close(),
  };
}
