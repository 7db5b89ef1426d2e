/**
 * Every object `kubectl kustomize deploy/base` renders, sent to a real kube-apiserver
 * (v1.34.4, the lab) with `--dry-run=server`: defaulting, validation and admission (Pod
 * Security included) run exactly as for a real apply, and nothing is persisted (issue 17).
 */
import { describe, expect, inject, it } from 'vitest';
import { admin, asList, type Manifest, renderBase } from './lab-helpers.js';

const lab = inject('lab');

describe('deploy/base against the real apiserver (server-side dry run)', () => {
  it('accepts every rendered object', async () => {
    const all = await renderBase();
    expect(all.length).toBeGreaterThan(5);
    // Namespaced objects can only be dry-run into an existing namespace: create it for real.
    const namespaces = all.filter((m) => m.kind === 'Namespace');
    await admin(lab, ['apply', '-f', '-'], asList(namespaces));
    const out = await admin(lab, ['apply', '--dry-run=server', '-o', 'name', '-f', '-'], asList(all));
    // kubectl names each object the server accepted; a refusal fails the command (stderr).
    const applied = out.trim().split('\n').sort();
    const expected = all.map((m) => `${resourceName(m)}/${m.metadata.name}`).sort();
    expect(applied).toEqual(expected);
  });
});

/** kubectl's `-o name` spelling: kind, plus the API group when there is one. */
function resourceName(m: Manifest): string {
  const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
  return `${m.kind.toLowerCase()}${group ? `.${group}` : ''}`;
}
