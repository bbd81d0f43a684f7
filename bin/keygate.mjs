#!/usr/bin/env node
// keygate is written in TypeScript and runs through tsx's loader (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
