#!/usr/bin/env node
// Runs a command under Node.js 22 or newer, whatever Node started this script (it is
// plain JavaScript that any Node since 16 runs). kproxy needs Node 22 (undici, the test
// runner); many machines still have Node 20 first on PATH. If the running Node is older,
// this looks for Node 22 where .ci/run and earlier runs put it and, when there is none,
// installs the official binary once from the npm registry (package node-<os>-<arch>,
// which ships it), into ~/.cache/kproxy, then runs the command with that Node first on
// PATH. Set KPROXY_NO_NODE_INSTALL=1 to be told the fix instead.
//
// Usage: node scripts/node22.mjs [--require-bin NAME]... COMMAND [ARGS...]
//   --require-bin NAME  fail with one line saying how to install NAME when it is not on PATH
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const wantedVersion = '22.23.3';
const minimum = [22, 12];

const binHints = {
  'redis-server': 'Debian/Ubuntu: sudo apt-get install redis-server · macOS: brew install redis',
  kubectl: 'Debian/Ubuntu: sudo apt-get install kubernetes-client (or kubectl) · macOS: brew install kubectl',
  go: 'the lab builds Kubernetes from source with Go 1.24 or newer: https://go.dev/dl/ (Debian: golang-go if recent enough)',
  openssl: 'Debian/Ubuntu: sudo apt-get install openssl · macOS: brew install openssl',
  yamllint: 'Debian/Ubuntu: sudo apt-get install yamllint · macOS: brew install yamllint',
};

function fail(message) {
  process.stderr.write(`kproxy: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const required = [];
  let i = 0;
  while (argv[i] === '--require-bin') {
    if (!argv[i + 1]) fail('--require-bin needs a program name');
    required.push(argv[i + 1]);
    i += 2;
  }
  if (i >= argv.length) fail('usage: node scripts/node22.mjs [--require-bin NAME]... COMMAND [ARGS...]');
  return { required, command: argv.slice(i) };
}

function isRecentEnough(version) {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  return major > minimum[0] || (major === minimum[0] && minor >= minimum[1]);
}

function onPath(name, envPath) {
  return envPath
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => existsSync(path.join(dir, name)));
}

function packageName() {
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!platform || !arch) return undefined;
  return `node-${platform}-${arch}`;
}

function binDirIn(prefix, pkg) {
  return path.join(prefix, 'node_modules', pkg, 'bin');
}

function findOrInstallNode22() {
  const pkg = packageName();
  const fix = `install Node.js ${minimum.join('.')} or newer (nvm install 22, or your package manager) and run the command again`;
  if (!pkg)
    fail(
      `Node.js ${process.version} is too old for kproxy and there is no npm-packaged Node for ${process.platform}-${process.arch}: ${fix}`,
    );
  const cache = path.join(os.homedir(), '.cache', 'kproxy', 'node22');
  const prefixes = [process.env.KPROXY_NODE22_PREFIX, '/opt/node22', cache].filter(Boolean);
  for (const prefix of prefixes) {
    const dir = binDirIn(prefix, pkg);
    if (existsSync(path.join(dir, 'node'))) return dir;
  }
  if (process.env.KPROXY_NO_NODE_INSTALL === '1')
    fail(`Node.js ${process.version} is too old (kproxy needs ${minimum.join('.')}+): ${fix}`);
  process.stderr.write(
    `kproxy: Node.js ${process.version} is too old (needs ${minimum.join('.')}+); installing Node ${wantedVersion} once into ${cache} (npm package ${pkg}) …\n`,
  );
  mkdirSync(cache, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(
    npm,
    [
      'install',
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--loglevel=error',
      `${pkg}@${wantedVersion}`,
    ],
    { cwd: cache, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const dir = binDirIn(cache, pkg);
  if (result.status !== 0 || !existsSync(path.join(dir, 'node')))
    fail(`could not install Node ${wantedVersion} from the npm registry: ${fix}`);
  return dir;
}

const { required, command } = parseArgs(process.argv.slice(2));
const env = { ...process.env };
if (!isRecentEnough(process.version)) {
  env.PATH = `${findOrInstallNode22()}${path.delimiter}${env.PATH ?? ''}`;
}
const missing = required.filter((name) => !onPath(name, env.PATH ?? ''));
if (missing.length > 0) {
  for (const name of missing)
    process.stderr.write(
      `kproxy: ${name} is needed on PATH and was not found (${binHints[name] ?? `install ${name}`})\n`,
    );
  process.exit(2);
}
// The command runs as a child that gets every signal this process gets (npm start under
// a supervisor sends SIGTERM here), and this process ends the way the command ends.
const child = spawn(command[0], command.slice(1), { stdio: 'inherit', env });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => fail(`could not run ${command[0]}: ${error.message}`));
child.on('exit', (code, signal) =>
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1)),
);
