import { randomUUID } from 'node:crypto';
import { Authenticator, deniedMessage, queryRejection } from '../../auth/credentials';
import { QueryError, queryError } from '../../aws-protocol/errors';
import type { ServiceHandler } from '../../aws-protocol/http';
import { memberList, queryProtocolParams, queryResponse } from '../../aws-protocol/query-protocol';
import { xmlElement, xmlNode } from '../../aws-protocol/xml';
import { IamError, validation, type IamAccessKeyRecord, type IamTag, type IamUserRecord, type LocalIam } from './models';

/**
 * IAM's query protocol: `POST /` with a form-encoded body (or the same parameters in the query string),
 * `Version=2010-05-08`, answers and errors in IAM's XML. A caller signing with a key the local IAM issued
 * is held to its own policies (`iam:<Action>` on the target user), as on AWS.
 */

export const IAM_NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** The IAM endpoint: `POST /` with a form-encoded body (or the same parameters in the query string). */
export function iamHandler(iam: LocalIam, auth = new Authenticator(iam)): ServiceHandler {
  return async (request) => {
    const params = queryProtocolParams(request);
    const action = params.get('Action') ?? '';
    const requestId = randomUUID();
    try {
      const caller = auth.authenticate(request);
      if (caller.kind === 'rejected') throw queryRejection(caller);
      const self = caller.kind === 'user' ? caller.user.userName : undefined;
      /** IAM's default user for key operations: the caller's own. */
      const userParam = (required: boolean) => {
        const name = params.get('UserName');
        if (name) return name;
        if (!required && self) return self;
        if (!required) throw validation('Must specify userName when calling with non-User credentials');
        throw validation(`Value null at 'userName' failed to satisfy constraint: Member must not be null`);
      };
      const required = (name: string, member: string) => {
        const value = params.get(name);
        if (value === undefined || value === '') throw validation(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
        return value;
      };
      if (caller.kind === 'user') {
        const target = params.get('UserName') ?? (action === 'GetUser' || /AccessKey/.test(action) ? self : undefined);
        const targetUser = target ? iam.user(target) : undefined;
        // A user about to be created is named with the path it is created under, as IAM authorizes it.
        const newPath = action === 'CreateUser' ? params.get('Path') || '/' : '/';
        const resource = targetUser?.arn ?? (target ? `arn:aws:iam::${iam.accountId}:user${newPath}${target}` : `arn:aws:iam::${iam.accountId}:user/*`);
        const evaluation = auth.authorize(caller.user, { action: `iam:${action}`, resource, context: boundaryContext(action, params, targetUser) });
        if (evaluation.decision !== 'Allow') throw new IamError('AccessDenied', 403, deniedMessage(caller.user, `iam:${action}`, resource, evaluation));
        auth.recordUse(caller, 'iam');
      }

      let result: string;
      let changed = true;
      switch (action) {
        case 'CreateUser': {
          const user = iam.createUser(required('UserName', 'userName'), params.get('Path') || '/', memberList(params, 'Tags').map(tagOf), params.get('PermissionsBoundary') || undefined);
          result = xmlNode('User', userXml(user, true));
          break;
        }
        case 'GetUser': {
          const name = params.get('UserName') ?? self;
          if (!name) throw validation('Must specify userName when calling with non-User credentials');
          result = xmlNode('User', userXml(iam.getUser(name), true));
          changed = false;
          break;
        }
        case 'ListUsers': {
          const page = paginate(iam.listUsers(params.get('PathPrefix') || '/'), params);
          result = xmlNode('Users', page.items.map((u) => xmlNode('member', userXml(u, false))).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'DeleteUser':
          iam.deleteUser(required('UserName', 'userName'));
          result = '';
          break;
        case 'PutUserPermissionsBoundary':
          iam.putUserPermissionsBoundary(required('UserName', 'userName'), required('PermissionsBoundary', 'permissionsBoundary'));
          result = '';
          break;
        case 'DeleteUserPermissionsBoundary':
          iam.deleteUserPermissionsBoundary(required('UserName', 'userName'));
          result = '';
          break;
        case 'TagUser':
          iam.tagUser(required('UserName', 'userName'), memberList(params, 'Tags').map(tagOf));
          result = '';
          break;
        case 'UntagUser':
          iam.untagUser(required('UserName', 'userName'), memberList(params, 'TagKeys').map((m) => m[''] ?? ''));
          result = '';
          break;
        case 'ListUserTags': {
          const page = paginate(iam.getUser(required('UserName', 'userName')).tags, params);
          result = xmlNode('Tags', page.items.map((t) => xmlNode('member', tagXml(t))).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'PutUserPolicy':
          iam.putUserPolicy(required('UserName', 'userName'), required('PolicyName', 'policyName'), required('PolicyDocument', 'policyDocument'));
          result = '';
          break;
        case 'GetUserPolicy': {
          const userName = required('UserName', 'userName');
          const policyName = required('PolicyName', 'policyName');
          const document = iam.getUserPolicy(userName, policyName);
          const user = iam.getUser(userName);
          result = xmlElement('UserName', user.userName) + xmlElement('PolicyName', policyName) + xmlElement('PolicyDocument', encodeURIComponent(document));
          changed = false;
          break;
        }
        case 'ListUserPolicies': {
          const page = paginate(iam.listUserPolicies(required('UserName', 'userName')), params);
          result = xmlNode('PolicyNames', page.items.map((n) => xmlElement('member', n)).join('')) + page.xml;
          changed = false;
          break;
        }
        case 'DeleteUserPolicy':
          iam.deleteUserPolicy(required('UserName', 'userName'), required('PolicyName', 'policyName'));
          result = '';
          break;
        case 'CreateAccessKey': {
          const key = iam.createAccessKey(userParam(false));
          result = xmlNode('AccessKey', accessKeyXml(key) + xmlElement('SecretAccessKey', key.secretAccessKey));
          break;
        }
        case 'ListAccessKeys': {
          const name = userParam(false);
          const page = paginate(iam.listAccessKeys(name), params);
          result = xmlNode('AccessKeyMetadata', page.items.map((k) => xmlNode('member', accessKeyXml(k))).join('')) + page.xml
            + xmlElement('UserName', iam.getUser(name).userName);
          changed = false;
          break;
        }
        case 'UpdateAccessKey':
          iam.updateAccessKey(userParam(false), required('AccessKeyId', 'accessKeyId'), required('Status', 'status'));
          result = '';
          break;
        case 'DeleteAccessKey':
          iam.deleteAccessKey(userParam(false), required('AccessKeyId', 'accessKeyId'));
          result = '';
          break;
        case 'GetAccessKeyLastUsed': {
          const key = iam.getAccessKeyLastUsed(required('AccessKeyId', 'accessKeyId'));
          const used = key.lastUsed;
          result = xmlElement('UserName', key.userName) + xmlNode('AccessKeyLastUsed', used
            ? xmlElement('LastUsedDate', used.date) + xmlElement('ServiceName', used.service) + xmlElement('Region', used.region)
            : xmlElement('ServiceName', 'N/A') + xmlElement('Region', 'N/A'));
          changed = false;
          break;
        }
        default:
          throw new IamError('InvalidAction', 400, `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
      }
      if (changed) await iam.persist();
      return queryResponse(IAM_NAMESPACE, action, result, requestId);
    } catch (error) {
      if (error instanceof QueryError) return queryError(IAM_NAMESPACE, error, requestId);
      throw error;
    }
  };
}

/**
 * The `iam:PermissionsBoundary` condition key, for the actions IAM sets it on: the boundary being set
 * (CreateUser, PutUserPermissionsBoundary), or the target user's current one (changes of its policies and
 * of its boundary). Absent when there is none, so `StringEquals` on it refuses a user without a boundary.
 */
function boundaryContext(action: string, params: Map<string, string>, target: Readonly<IamUserRecord> | undefined): Record<string, string | undefined> {
  switch (action) {
    case 'CreateUser':
    case 'PutUserPermissionsBoundary':
      return { 'iam:PermissionsBoundary': params.get('PermissionsBoundary') || undefined };
    case 'PutUserPolicy':
    case 'DeleteUserPolicy':
    case 'AttachUserPolicy':
    case 'DetachUserPolicy':
    case 'DeleteUserPermissionsBoundary':
      return { 'iam:PermissionsBoundary': target?.permissionsBoundary };
    default:
      return {};
  }
}

function tagOf(member: Record<string, string>): IamTag {
  if (member.Key === undefined) throw validation(`Value null at 'tags.member.key' failed to satisfy constraint: Member must not be null`);
  return { Key: member.Key, Value: member.Value ?? '' };
}

function paginate<T>(items: T[], params: Map<string, string>): { items: T[]; xml: string } {
  const max = Number(params.get('MaxItems') ?? '100');
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw validation(`Value '${params.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
  }
  const marker = params.get('Marker');
  const start = marker ? Number(Buffer.from(marker, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw validation('Invalid Marker.');
  const page = items.slice(start, start + max);
  const truncated = start + max < items.length;
  return {
    items: page,
    xml: xmlElement('IsTruncated', String(truncated)) + (truncated ? xmlElement('Marker', Buffer.from(String(start + max)).toString('base64')) : ''),
  };
}

function userXml(user: IamUserRecord, withTags: boolean): string {
  return xmlElement('Path', user.path) + xmlElement('UserName', user.userName) + xmlElement('UserId', user.userId)
    + xmlElement('Arn', user.arn) + xmlElement('CreateDate', user.createDate)
    + (user.permissionsBoundary ? xmlNode('PermissionsBoundary', xmlElement('PermissionsBoundaryType', 'Policy') + xmlElement('PermissionsBoundaryArn', user.permissionsBoundary)) : '')
    + (withTags && user.tags.length ? xmlNode('Tags', user.tags.map((t) => xmlNode('member', tagXml(t))).join('')) : '');
}

function tagXml(tag: IamTag): string {
  return xmlElement('Key', tag.Key) + xmlElement('Value', tag.Value);
}

function accessKeyXml(key: IamAccessKeyRecord): string {
  return xmlElement('UserName', key.userName) + xmlElement('AccessKeyId', key.accessKeyId) + xmlElement('Status', key.status) + xmlElement('CreateDate', key.createDate);
}
