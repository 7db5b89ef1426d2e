// Runs lab/build.sh (the stamp makes it a no-op when nothing changed).
import { spawn } from 'node:child_process';
import path from 'node:path';

export function defaultBinDir(labRoot: string): string {
  return process.env.KPROXY_LAB_BIN ?? path.join(labRoot, '.bin');
}

export async function buildLab(labRoot: string, binDir: string): Promise<void> {
  const child = spawn(path.join(labRoot, 'build.sh'), [], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, KPROXY_LAB_BIN: binDir },
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`lab/build.sh failed (exit ${code}); see its output above`);
}
