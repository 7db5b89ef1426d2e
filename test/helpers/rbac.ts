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
