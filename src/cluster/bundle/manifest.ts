import { z } from 'zod';

export const bundleManifestSchema = z.object({
  apiVersion: z.literal('kproxy/v1'),
  kind: z.literal('Bundle'),
  cluster: z.string().min(1),
  collectedAt: z.iso.datetime({ offset: true }),
  target: z
    .object({
      namespace: z.string().min(1).nullish(),
      service: z.string().min(1).nullish(),
      node: z.string().min(1).nullish(),
      /** The failing client, `NAMESPACE/NAME` (a Pod, Deployment, StatefulSet or DaemonSet). */
      from: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, 'must be NAMESPACE/NAME')
        .nullish(),
      /** The Ingress or HTTPRoute clients go through (issue 18 §4). */
      route: z
        .object({
          kind: z.enum(['Ingress', 'HTTPRoute']),
          namespace: z.string().min(1),
          name: z.string().min(1),
        })
        .nullish(),
    })
    .default({}),
  /**
   * Files `kproxy collect` could not read, with why (written by bundle/write.ts): the
   * offline diagnosis quotes the same reason the live one did, not just "not collected".
   */
  notCollected: z
    .record(
      z
        .string()
        .refine(
          (k) => !k.startsWith('/') && !k.split('/').some((p) => p === '' || p === '.' || p === '..'),
          'must be a relative path inside the bundle',
        ),
      z.string(),
    )
    .optional(),
});

export type BundleManifest = z.infer<typeof bundleManifestSchema>;
