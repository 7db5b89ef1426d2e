/**
 * The README's commands on a machine whose first Node is too old: `scripts/node22.mjs`
 * (which every npm script goes through) runs the command under Node 22, and a missing
 * program the tests need is named on one line.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const launcher = path.join(root, 'scripts', 'node22.mjs');

/** A Node older than 22 on this machine, if there is one (fresh machines here have Node 20). */
async function oldNode(): Promise<string | undefined> {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const { stdout } = await exec(candidate, ['-p', 'process.versions.node']);
    if (Number(stdout.split('.')[0]) < 22) return candidate;
  }
  return undefined;
}

describe('scripts/node22.mjs', () => {
  it('runs the command under Node 22 or newer, whatever Node starts it', async () => {
    const old = await oldNode();
    const node = old ?? process.execPath;
    const { stdout } = await exec(node, [launcher, 'node', '-p', 'process.versions.node'], { cwd: root });
    expect(Number(stdout.trim().split('.')[0])).toBeGreaterThanOrEqual(22);
    if (!old) console.info('no Node older than 22 on this machine: only the pass-through was exercised');
  });

  it('names a missing program on one line, with how to install it, and runs nothing', async () => {
    const failed = await exec(
      process.execPath,
      [launcher, '--require-bin', 'redis-server-x', 'node', '-e', 'console.log("ran")'],
      {
        cwd: root,
        env: { PATH: path.dirname(process.execPath) },
      },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2, stdout: '' });
    expect((failed as { stderr: string }).stderr).toBe(
      'kproxy: redis-server-x is needed on PATH and was not found (install redis-server-x)\n',
    );
    const hinted = await exec(process.execPath, [launcher, '--require-bin', 'redis-server', 'true'], {
      cwd: root,
      env: { PATH: path.dirname(process.execPath) },
    }).catch((error: { stderr: string }) => error);
    expect((hinted as { stderr: string }).stderr).toMatch(
      /^kproxy: redis-server is needed on PATH and was not found \(Debian\/Ubuntu: sudo apt-get install redis-server · macOS: brew install redis\)\n$/,
    );
  });
});
