// Tests never reach AWS: no metadata lookups, no telemetry, pretty Powertools logs.
process.env.POWERTOOLS_DEV = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.CDK_DISABLE_CLI_TELEMETRY = 'true';
process.env.AWS_REGION = process.env.AWS_REGION || 'us-east-1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
