import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { PipelineFunction, lambdaEntry } from '../../infra/constructs/pipeline-function';
import { PipelineHttpApi } from '../../infra/constructs/pipeline-http-api';

describe('PipelineHttpApi.addRoute', () => {
  function apiStack() {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'ApiTest', { env: { region: 'eu-west-1' } });
    const api = new PipelineHttpApi(stack, 'Api', { throttleRateLimit: 5, throttleBurstLimit: 10 });
    const fn = new PipelineFunction(stack, 'Fn', { entry: lambdaEntry('identity'), description: 'test' });
    return { stack, api, fn };
  }

  it('shares one integration between the routes of one function, each route allowed to invoke it', () => {
    const { stack, api, fn } = apiStack();
    api.addRoute(HttpMethod.GET, '/things/{id}', fn);
    api.addRoute(HttpMethod.PUT, '/things/{id}', fn);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'PUT /things/{id}', AuthorizationType: 'JWT' });
  });

  it('uses the stack region in the issuer and the given throttling', () => {
    const { stack, api, fn } = apiStack();
    api.addRoute(HttpMethod.GET, '/x', fn);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: {
        Issuer: { 'Fn::Join': ['', ['https://cognito-idp.eu-west-1.amazonaws.com/', Match.anyValue()]] },
      },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
  });
});
