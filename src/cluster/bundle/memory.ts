/**
 * A bundle held in memory: what a live source fetched, in the bundle's layout. Files the
 * source could not read are recorded with the reason (`forbidden: list pods in app`),
 * so the view built from it says why data is missing.
 */
import { BundleError } from '../../errors.js';
import { type Collected, collected, missing } from '../collected.js';
import type { LogTail } from '../view.js';
import { BundleFiles, type LaterJson, subDirsOf, tailOf } from './files.js';
import { bundleLimits } from './limits.js';

/**
 * A JSON document held as the parsed objects a live read returned: the view is built from
 * them directly (no pretty-print and parse back); it becomes text only when written out.
 */
export class JsonDocument {
  constructor(readonly value: unknown) {}

  /** As `kubectl get -o json` prints it. */
  text(): string {
    return JSON.stringify(this.value, null, 4);
  }
}

export type MemoryEntry = { readonly content: string | JsonDocument } | { readonly missing: string };

/** The text of an entry's content (a parsed document is printed). */
export function contentText(content: string | JsonDocument): string {
  return typeof content === 'string' ? content : content.text();
}

export class MemoryBundle extends BundleFiles {
  readonly entries = new Map<string, MemoryEntry>();

  set(rel: string, entry: MemoryEntry): void {
    this.entries.set(rel, entry);
  }

  async readText(rel: string, maxBytes: number = bundleLimits.maxCaptureBytes): Promise<Collected<string>> {
    const entry = this.entries.get(rel);
    if (!entry) return missing(`not collected: ${rel}`);
    if ('missing' in entry) return missing(entry.missing);
    const text = contentText(entry.content);
    if (text.length > maxBytes) throw new BundleError(rel, `is more than the limit of ${maxBytes} bytes`);
    return collected(text);
  }

  /** A parsed document as it is; text is parsed as a bundle file is. */
  override async readJson(rel: string): Promise<Collected<unknown>> {
    const entry = this.entries.get(rel);
    if (entry && 'content' in entry && entry.content instanceof JsonDocument)
      return collected(entry.content.value);
    return super.readJson(rel);
  }

  /** A parsed document is handed over as it is (there is no text to hold). */
  override async readJsonLater(rel: string): Promise<Collected<LaterJson>> {
    const entry = this.entries.get(rel);
    if (entry && 'content' in entry && entry.content instanceof JsonDocument) {
      const { value } = entry.content;
      return collected(() => value);
    }
    return super.readJsonLater(rel);
  }

  async readLogTail(rel: string): Promise<Collected<LogTail>> {
    const text = await this.readText(rel);
    return text.state === 'missing' ? text : collected(tailOf(text.value));
  }

  async listDirs(rel: string): Promise<string[]> {
    return subDirsOf(this.entries.keys(), rel).sort();
  }
}
