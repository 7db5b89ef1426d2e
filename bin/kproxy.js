#!/usr/bin/env node
// Entry point of the built CLI (`npm run build` writes dist/).
import module from 'node:module';

// V8's compiled code of the CLI's modules (~330 with zod, yaml and commander) is kept on
// disk, so a run after the first skips most of their parsing and compiling: a third of
// the start-up. NODE_COMPILE_CACHE chooses the directory (default: the OS temporary
// directory); NODE_DISABLE_COMPILE_CACHE=1 turns it off. Where the directory cannot be
// written, Node runs without it and says nothing.
module.enableCompileCache?.();
await import('../dist/cli/main.js');
