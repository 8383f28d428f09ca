#!/usr/bin/env node
// Runs the TypeScript sources through tsx so that `sealpost` needs no separate build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
