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
    })
    .default({}),
});

export type BundleManifest = z.infer<typeof bundleManifestSchema>;
