import { jsonError } from '../../aws-protocol/errors';
import { json, type ServiceHandler } from '../../aws-protocol/http';
import { AMZ_JSON_1_1, targetOperation } from '../../aws-protocol/json-protocol';
import type { RuleDescription } from './deploy';

/**
 * The read side of EventBridge's JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Operation>`): ListRules,
 * DescribeRule and ListTargetsByRule over the template's rules, for `aws events list-rules` and the like.
 * Rules come from the template only; PutRule, PutEvents and the rest are not emulated.
 */
export function eventsHandler(rules: () => readonly RuleDescription[]): ServiceHandler {
  const error = (status: number, type: string, message: string) => jsonError(status, type, message, { contentType: AMZ_JSON_1_1 });
  return async (request) => {
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return error(400, 'SerializationException', 'The request body is not valid JSON.');
    }
    const onBus = (rule: RuleDescription) => rule.EventBusName === (typeof input.EventBusName === 'string' ? input.EventBusName.split('/').pop() : 'default');
    const named = () => rules().find((r) => r.Name === input.Name && onBus(r));
    const operation = targetOperation(request);
    switch (operation) {
      case 'ListRules': {
        const prefix = typeof input.NamePrefix === 'string' ? input.NamePrefix : '';
        return json(200, { Rules: rules().filter((r) => onBus(r) && r.Name.startsWith(prefix)).map(({ Targets: _targets, ...rule }) => rule) }, { 'content-type': AMZ_JSON_1_1 });
      }
      case 'DescribeRule':
      case 'ListTargetsByRule': {
        const rule = operation === 'DescribeRule' ? named() : rules().find((r) => r.Name === input.Rule && onBus(r));
        if (!rule) return error(400, 'ResourceNotFoundException', `Rule ${String(input.Name ?? input.Rule)} does not exist on EventBus ${String(input.EventBusName ?? 'default')}.`);
        const { Targets, ...description } = rule;
        return json(200, operation === 'DescribeRule' ? description : { Targets }, { 'content-type': AMZ_JSON_1_1 });
      }
      default:
        return error(400, 'UnknownOperationException', `The local cloud's EventBridge does not implement ${operation || 'this operation'}.`);
    }
  };
}
