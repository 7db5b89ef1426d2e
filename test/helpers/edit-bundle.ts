/** Edited copies of example bundles, for tests that need one detail changed. */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BundleSource } from '../../src/cluster/bundle/bundle-source.js';
import type { Diagnosis, RankedCause } from '../../src/engine/diagnosis.js';
import { diagnoseSource } from '../../src/engine/engine.js';
import { copyExample } from './bundles.js';

export const n1 = 'ip-10-0-1-23.ec2.internal';
export const n2 = 'ip-10-0-2-45.ec2.internal';
export const n3 = 'ip-10-0-3-67.ec2.internal';

export class BundleCopies {
  private readonly cleanups: (() => Promise<void>)[] = [];

  async edit(name: string, edit: (b: BundleEdit) => Promise<void>): Promise<string> {
    const copy = await copyExample(name);
    this.cleanups.push(copy.cleanup);
    await edit(new BundleEdit(copy.dir));
    return copy.dir;
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0)) await c();
  }
}

export class BundleEdit {
  constructor(readonly dir: string) {}

  file(rel: string): string {
    return path.join(this.dir, rel);
  }
  read(rel: string): Promise<string> {
    return readFile(this.file(rel), 'utf8');
  }
  write(rel: string, content: string): Promise<void> {
    return writeFile(this.file(rel), content);
  }
  append(rel: string, lines: readonly string[]): Promise<void> {
    return appendFile(this.file(rel), `${lines.join('\n')}\n`);
  }
  async json<T>(rel: string, edit: (doc: T) => void): Promise<void> {
    const doc = JSON.parse(await this.read(rel)) as T;
    edit(doc);
    await this.write(rel, JSON.stringify(doc, null, 2));
  }
  /** Sets (or adds) unlabelled Prometheus samples in a node's metrics.txt. */
  async metrics(node: string, values: Record<string, number>): Promise<void> {
    const rel = `nodes/${node}/metrics.txt`;
    let text = await this.read(rel);
    for (const [name, value] of Object.entries(values)) {
      const line = new RegExp(`^${name} .*$`, 'm');
      text = line.test(text) ? text.replace(line, `${name} ${value}`) : `${text}${name} ${value}\n`;
    }
    await this.write(rel, text);
  }
}

export const diagnoseDir = (dir: string): Promise<Diagnosis> => diagnoseSource(new BundleSource(dir));

export function findingOf(d: Diagnosis, check: string) {
  const f = d.findings.find((x) => x.check === check);
  if (!f) throw new Error(`no finding ${check}`);
  return f;
}

export function causeOf(d: Diagnosis, category: string): RankedCause | undefined {
  return d.ranking.find((r) => r.category === category);
}

/** A klog header as kube-proxy prints it (`E1122 09:45:00.020395       1 proxier.go:1552]`). */
export function klogAt(severity: string, at: Date, source: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${severity}${p(at.getUTCMonth() + 1)}${p(at.getUTCDate())} ${p(at.getUTCHours())}:${p(at.getUTCMinutes())}:${p(at.getUTCSeconds())}.${p(at.getUTCMilliseconds(), 3)}000       1 ${source}]`;
}
