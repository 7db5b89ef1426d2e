#!/usr/bin/env node
// Entry point of the built CLI (`npm run build` writes dist/ and dist/bundle/).
// Built-ins from process.getBuiltinModule, not `import`: an imported built-in gets an ES
// facade that reads all its exports (node:fs's lazy ReadStream loads the fs streams).
const { statSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');

// V8's compiled code of the CLI is kept on disk, so a run after the first skips most of
// its parsing and compiling. NODE_COMPILE_CACHE chooses the directory (default: the OS
// temporary directory); NODE_DISABLE_COMPILE_CACHE=1 turns it off. Where the directory
// cannot be written, Node runs without it and says nothing.
module.enableCompileCache?.();
// The esbuild bundle (scripts/bundle-cli.mjs) when built: a few files instead of ~330
// modules, ~70 ms less CPU per run. Else tsc's output, the same program module by module;
// also when tsc ran alone after the bundle was made (a stale bundle must not run).
const bundle = new URL('../dist/bundle/main.js', import.meta.url);
const modules = new URL('../dist/cli/main.js', import.meta.url);
const builtAt = (file) => statSync(file, { throwIfNoEntry: false })?.mtimeMs;
const bundledAt = builtAt(bundle);
const compiledAt = builtAt(modules);
const useBundle = bundledAt !== undefined && (compiledAt === undefined || bundledAt >= compiledAt);
await import(useBundle ? bundle.href : modules.href);
