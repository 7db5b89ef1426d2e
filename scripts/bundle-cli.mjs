/**
 * Bundles the CLI (src/cli/main.ts) with esbuild into dist/bundle/: one ESM file for what
 * every run loads, plus chunks for the dynamic imports (the live cluster client, the AWS
 * SDKs, tar, the collect/config/serve-bundle commands), which stay lazy. Node then reads
 * and compiles a few files instead of ~330 modules. bin/kproxy.js runs it when present.
 * The bot, the workers and the Docker image keep using tsc's dist/ (npm run build runs both).
 *
 * usage: node scripts/bundle-cli.mjs [outdir]   (default dist/bundle)
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const outdir = path.resolve(process.argv[2] ?? path.join(root, 'dist', 'bundle'));

/**
 * zod's entry exports every locale as `z.locales` (64 modules, a third of zod's code), and
 * `import { z } from 'zod'` keeps the whole namespace, so no bundler can drop them. kproxy
 * never calls `z.config(z.locales.xx())`; English, the default zod registers itself
 * (v4/classic/schemas.js imports locales/en.js directly), is all it uses.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
      resolveDir: path.join(root, 'node_modules', 'zod', 'v4', 'locales'),
    }));
  },
};

/**
 * An ES module's `import … from 'node:fs'` makes Node build an ES facade of the built-in,
 * which reads every export once, getters included: node:fs's ReadStream getter loads the
 * fs streams (and what they load), node:process's initialises stdin and stdout, node:util's
 * TextDecoder: ~10 ms of CPU per run for modules the offline diagnosis never touches.
 * The bundle takes the built-ins from process.getBuiltinModule instead (the same objects,
 * as CommonJS), whose named exports esbuild reads on use. Dynamic imports stay as they are.
 */
const builtinsAsCommonJs = {
  name: 'builtins-as-commonjs',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'import-statement' ? { path: args.path, namespace: 'kproxy-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'kproxy-builtin' }, async (args) => ({
      contents: lazyBuiltins.has(args.path)
        ? await loadedOnUse(args.path)
        : `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});\n`,
      loader: 'js',
    }));
  },
};

/**
 * Built-ins that modules every run loads import but a diagnosis never calls: commander
 * imports node:child_process (for executable subcommands, which kproxy has none of; it
 * loads node:net, dgram and the child-process internals, ~3 ms), files.ts node:readline
 * (only for a log too big to read whole). Each export is a getter that loads the module
 * the first time one is read (esbuild's CommonJS interop copies getters without reading them).
 */
const lazyBuiltins = new Set(['node:child_process', 'node:readline']);

async function loadedOnUse(builtin) {
  // The export names of this Node (the one that runs the bundle: engines says >= 22.12).
  const names = Object.keys(await import(builtin)).filter((name) => name !== 'default');
  const getters = names.map(
    (name) => `  ${JSON.stringify(name)}: { enumerable: true, get: () => load()[${JSON.stringify(name)}] },`,
  );
  return [
    'let loaded;',
    `const load = () => (loaded ??= process.getBuiltinModule(${JSON.stringify(builtin)}));`,
    'module.exports = Object.defineProperties({}, {',
    ...getters,
    '});',
    '',
  ].join('\n');
}

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'src', 'cli', 'main.ts')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // The CommonJS packages bundled (yaml, commander's dependencies, the live client's)
  // call require() for Node's built-ins; an ES module has none, so one is made.
  banner: {
    js: "import { createRequire as __kproxyCreateRequire } from 'node:module'; const require = __kproxyCreateRequire(import.meta.url);",
  },
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [zodEnglishOnly, builtinsAsCommonJs],
  logLevel: 'warning',
});
