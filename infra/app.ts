#!/usr/bin/env node
// cdk.json entry point. The CLI passes outdir and context through environment variables,
// which App reads itself.
import { createPipelineApp } from './pipeline-app';

createPipelineApp();
