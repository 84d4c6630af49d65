import { Template } from 'aws-cdk-lib/assertions';
import { DeployedStack, type CfnTemplate } from '../../../../../infra/local-cloud/cloudformation/template';
import { recordCloudWatch } from '../../../../../infra/local-cloud/services/cloudwatch/deploy';
import { cloudWatchService } from '../../../../../infra/local-cloud/services/cloudwatch/service';
import { recordSns } from '../../../../../infra/local-cloud/services/sns/deploy';
import { createPipelineApp } from '../../../../../infra/pipeline-app';

const env = { stackName: 'DevicePipeline', region: 'us-east-1', accountId: '000000000000', apiEndpoint: 'http://127.0.0.1:3000' };

describe('the local cloud deploys the operations resources as records', () => {
  const { stack } = createPipelineApp({ context: { 'aws:cdk:bundling-stacks': [], alarmEmail: 'ops@example.com' } });
  const deployed = new DeployedStack(Template.fromStack(stack).toJSON() as CfnTemplate, env);

  it('records the dashboard and every alarm, each with the alarm topic as its action', async () => {
    const record = recordCloudWatch(deployed);
    const [topic] = recordSns(deployed).topics;
    expect(record.dashboards).toHaveLength(1);
    expect(record.dashboards[0]!.widgetTitles).toEqual(expect.arrayContaining(['Stream iterator age (ms, max)', 'Function errors', 'HTTP API: 4xx and 5xx']));
    expect(record.alarms.length).toBeGreaterThanOrEqual(9);
    for (const alarm of record.alarms) expect(alarm.actions).toEqual([topic!.arn]);
    expect(record.alarms.find((a) => a.description?.startsWith('Export files came'))).toMatchObject({ metric: 'DevicePipeline/ExportLag', comparisonOperator: 'GreaterThanOrEqualToThreshold' });

    const service = cloudWatchService();
    const lines: string[] = [];
    await service.deploy!(deployed, { client: { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }, assemblyDir: '.', log: (l) => lines.push(l) });
    expect(service.recorded.alarms).toHaveLength(record.alarms.length);
    expect(lines).toEqual([`CloudWatch: 1 dashboard(s) and ${record.alarms.length} alarm(s) recorded, not evaluated locally`]);
  });

  it('records the encrypted topic, its TLS-only policy and the e-mail subscription', () => {
    const record = recordSns(deployed);
    expect(record.topics).toHaveLength(1);
    expect(record.topics[0]!.kmsMasterKeyId).toMatch(/^arn:aws:kms:/);
    expect(record.subscriptions).toEqual([{ topicArn: record.topics[0]!.arn, protocol: 'email', endpoint: 'ops@example.com' }]);
    expect(record.policies).toHaveLength(1);
    expect(record.policies[0]!.statements).toEqual(expect.arrayContaining([
      expect.objectContaining({ effect: 'Deny', condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]));
  });
});
