// Child processes of the lab: each component writes its output to a log file in the
// lab's directory (read it when something does not come up), and stops in reverse start
// order on SIGTERM, with SIGKILL after a bound.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface Component {
  name: string;
  child: ChildProcess;
  logFile: string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<string>;
}

export function startComponent(
  dir: string,
  name: string,
  binary: string,
  args: string[],
  env?: NodeJS.ProcessEnv,
): Component {
  const logFile = path.join(dir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<string>((resolve) => {
    child.on('error', (err) => resolve(`failed to start: ${err.message}`));
    child.on('exit', (code, signal) => {
      log.end();
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  return { name, child, logFile, exited };
}

/** The last lines of a component's log, for an error message. */
export async function logTail(c: Component, lines = 15): Promise<string> {
  const text = await readFile(c.logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function stopComponent(c: Component, graceMs = 15_000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null || c.child.pid === undefined) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

/**
 * Polls `probe` until it returns true, failing early when `component` exits (with its log
 * tail) and after `boundMs` (generous: the machine may be loaded; this only ends a hang).
 */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  component: Component | undefined,
  boundMs = 180_000,
): Promise<void> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    if (component && (component.child.exitCode !== null || component.child.signalCode !== null)) {
      throw new Error(
        `${component.name} ${await component.exited} before ${what}:\n${await logTail(component)}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) {
      const tail = component ? `\n${await logTail(component)}` : '';
      throw new Error(`lab: gave up waiting for ${what} after ${boundMs / 1000} s${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
