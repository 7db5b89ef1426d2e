/**
 * src/lazy.ts: schemas a run may not need are built on first use (EKS/EC2, Ingress,
 * HTTPRoute), once, and validate as before.
 */
import { describe, expect, it } from 'vitest';
import { auditEventSchema, ipPermissionSchema, securityGroupSchema } from '../src/cluster/eks/ec2-types.js';
import { httpRouteSchema, ingressSchema } from '../src/cluster/north-south/types.js';
import { lazy } from '../src/lazy.js';

describe('lazy', () => {
  it('builds on the first call only, and returns the same value after', () => {
    let builds = 0;
    const value = lazy(() => {
      builds++;
      return { built: builds };
    });
    expect(builds).toBe(0);
    const first = value();
    expect(value()).toBe(first);
    expect(builds).toBe(1);
  });

  it('keeps a built undefined (no second build)', () => {
    let builds = 0;
    const value = lazy(() => {
      builds++;
      return undefined;
    });
    expect(value()).toBeUndefined();
    expect(value()).toBeUndefined();
    expect(builds).toBe(1);
  });
});

describe('schemas built on first use', () => {
  it('are one instance each, shared by the schemas that embed them', () => {
    expect(securityGroupSchema()).toBe(securityGroupSchema());
    expect(ingressSchema()).toBe(ingressSchema());
    expect(httpRouteSchema()).toBe(httpRouteSchema());
    const permissions = securityGroupSchema().shape.IpPermissions.unwrap().unwrap();
    expect(permissions.element).toBe(ipPermissionSchema());
  });

  it('validate as before: a bad port is refused with its path', () => {
    const bad = securityGroupSchema().safeParse({
      GroupId: 'sg-1',
      IpPermissions: [{ IpProtocol: 'tcp', FromPort: 70000 }],
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['IpPermissions', 0, 'FromPort']);
    expect(
      auditEventSchema().safeParse({ kind: 'Event', apiVersion: 'audit.k8s.io/v1', verb: 'get' }).success,
    ).toBe(true);
  });
});
