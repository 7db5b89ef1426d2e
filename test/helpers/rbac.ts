/** The roles of deploy/base as grants of the test API server's RBAC evaluation. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Grant, PolicyRule } from '../../src/testserver/rbac.js';

const deployBase = path.resolve(import.meta.dirname, '..', '..', 'deploy', 'base');

interface RoleDoc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules: PolicyRule[];
}

/**
 * The ClusterRole of deploy/optional/probe.yaml bound by RoleBindings in `namespaces` (the
 * probe namespace and the clients' namespaces an operator opts in).
 */
export function probeGrants(...namespaces: string[]): Grant[] {
  const docs = parseAllDocuments(
    readFileSync(path.join(deployBase, '..', 'optional', 'probe.yaml'), 'utf8'),
  ).map((d) => d.toJSON() as RoleDoc);
  const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'kproxy-probe');
  if (!role) throw new Error('no ClusterRole kproxy-probe in deploy/optional/probe.yaml');
  return namespaces.map((namespace) => ({ namespace, rules: role.rules }));
}

/** The named Roles and ClusterRoles of deploy/base, bound as the kustomization binds them. */
export function deployGrants(...names: string[]): Grant[] {
  const docs = ['rbac-reader.yaml', 'rbac-actions.yaml'].flatMap((f) =>
    parseAllDocuments(readFileSync(path.join(deployBase, f), 'utf8')).map((d) => d.toJSON() as RoleDoc),
  );
  return names.map((name) => {
    const role = docs.find((d) => d.metadata.name === name);
    if (!role) throw new Error(`no role ${name} in deploy/base`);
    return role.kind === 'Role'
      ? { namespace: role.metadata.namespace, rules: role.rules }
      : { rules: role.rules };
  });
}
