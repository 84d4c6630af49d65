import type { CredentialStore } from '../../auth/credentials';
import type { LocalService } from '../../service';
import { stsHandler } from './responses';

/** STS on the edge: signed as `sts`, or an unsigned form POST with STS's API version. It keeps no state. */
export function stsService(store: CredentialStore): LocalService {
  return {
    name: 'sts',
    matcher: { signingName: 'sts', queryVersion: '2011-06-15' },
    handle: stsHandler(store),
  };
}
