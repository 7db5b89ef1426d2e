/**
 * The bot's configuration: a YAML file validated with zod (every problem in words, with its
 * key path, line and column), and secrets from the environment only. Parsed once at
 * start-up, then frozen.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { proxyViaModes } from '../cluster/live/kube-proxy-endpoints.js';
import { nodeCaptureModes } from '../cluster/live/node-captures.js';
import { probeModes } from '../cluster/live/probe-pod.js';
import { KproxyError } from '../errors.js';
import { crossKeyProblems, fileProblems } from './config-checks.js';
import { formatProblem, inWords, type Problem, problemsOf, YamlSource } from './problems.js';

const slackChannelId = z
  .string()
  .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789');
const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id such as U0123456789');
const clusterName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be lower-case letters, digits and "-"');

const window = z.strictObject({
  max: z.number().int().min(1),
  windowSeconds: z.number().int().min(1).max(86_400),
});

const slackUserGroupId = z
  .string()
  .regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user-group id such as S0123456789');

const ratingPolicy = (expiresMinutes: number) =>
  z
    .strictObject({
      approvers: z
        .strictObject({
          users: z.array(slackUserId).default([]),
          groups: z.array(slackUserGroupId).default([]),
        })
        .default({ users: [], groups: [] }),
      /** Approvals needed besides the requester; never below 1. */
      required: z.number().int().min(1).max(5).default(1),
      expiresMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60)
        .default(expiresMinutes),
    })
    .default({ approvers: { users: [], groups: [] }, required: 1, expiresMinutes });

export const approvalsSchema = z.strictObject({ yellow: ratingPolicy(15), red: ratingPolicy(10) });

const clusterSchema = z
  .strictObject({
    name: clusterName,
    kubeconfig: z.strictObject({ path: z.string().min(1), context: z.string().min(1) }).optional(),
    /** The cluster kproxy runs in: its pod's service account token and CA. */
    inCluster: z.literal(true).optional(),
    eks: z
      .strictObject({
        name: z.string().min(1),
        region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-west-2'),
        roleArn: z
          .string()
          .regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')
          .optional(),
        /** A VPC endpoint of the EKS API, when the default one is not reachable. */
        endpoint: z.url().optional(),
        /** VPC endpoints of EC2 and CloudWatch Logs (the control-plane path check, the audit log). */
        ec2Endpoint: z.url().optional(),
        logsEndpoint: z.url().optional(),
      })
      .optional(),
    channels: z.array(slackChannelId).min(1),
    nodeCaptures: z.enum(nodeCaptureModes).default('exec'),
    /** kube-proxy's healthz and metrics through `nodes/proxy` or (narrower RBAC) `pods/proxy`. */
    proxyVia: z.enum(proxyViaModes).default('nodes'),
    /**
     * The client's-eye probe: `debug-pod` lets kproxy create a short-lived probe pod (GREEN:
     * no approval, but only where the cluster's config enables it). Off by default.
     */
    probe: z.enum(probeModes).default('off'),
    /** Where the probe pod runs without a client, or when the client's namespace refuses it. */
    probeNamespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a namespace name')
      .max(63)
      .default('kube-system'),
    /** Registry of the debug pod's image (a mirror, for air-gapped clusters). */
    debugImageRegistry: z.string().min(1).optional(),
    /** Overrides the top-level approval policy for this cluster. */
    approvals: approvalsSchema.optional(),
  })
  .refine((c) => [c.kubeconfig, c.eks, c.inCluster].filter(Boolean).length === 1, {
    message: 'set exactly one of kubeconfig, eks or inCluster',
  });

const targetFields = ['cluster', 'namespace', 'service', 'node'] as const;

const pagerDutyServiceSchema = z.strictObject({
  /** PagerDuty service id (PABC123). */
  id: z.string().regex(/^P[A-Z0-9]{5,}$/, 'must be a PagerDuty service id such as PABC123'),
  cluster: clusterName,
  channel: slackChannelId,
  target: z
    .strictObject({
      /** kproxy target field → the alert's custom_details key that holds it. */
      customDetails: z.partialRecord(z.enum(targetFields), z.string().min(1)).optional(),
      /** A regular expression over the incident title with named groups cluster/namespace/service/node. */
      titlePattern: z
        .string()
        .refine((p) => {
          try {
            new RegExp(p);
            return true;
          } catch {
            return false;
          }
        }, 'is not a valid regular expression')
        .refine(
          (p) =>
            [...p.matchAll(/\(\?<([a-zA-Z]+)>/g)].every((m) =>
              (targetFields as readonly string[]).includes(m[1] as string),
            ),
          'named groups must be cluster, namespace, service or node',
        )
        .optional(),
    })
    .default({}),
});

const pagerDutySchema = z.strictObject({
  services: z.array(pagerDutyServiceSchema).min(1),
  /** Incidents for the same cluster and target within this window share one diagnosis. */
  shareWindowSeconds: z.number().int().min(0).max(86_400).default(900),
  /** Post the diagnosis summary back to the incident as a note (needs PAGERDUTY_API_TOKEN). */
  note: z
    .strictObject({ enabled: z.boolean().default(false), from: z.email().optional() })
    .default({ enabled: false }),
  /** REST API base URL (tests point it at a fake). */
  apiUrl: z.url().default('https://api.pagerduty.com'),
});

export const configSchema = z.strictObject({
  pagerduty: pagerDutySchema.optional(),
  /**
   * Optional: Slack user id → the Kubernetes identity approved actions run as
   * (Impersonate-User / Impersonate-Group), so the cluster's RBAC decides and its audit
   * log names the people. With it set, an approver without a mapping cannot trigger writes.
   */
  impersonation: z
    .record(
      slackUserId,
      z.strictObject({ user: z.string().min(1), groups: z.array(z.string().min(1)).default([]) }),
    )
    .optional(),
  approvals: approvalsSchema.default({
    yellow: { approvers: { users: [], groups: [] }, required: 1, expiresMinutes: 15 },
    red: { approvers: { users: [], groups: [] }, required: 1, expiresMinutes: 10 },
  }),
  clusters: z.array(clusterSchema).min(1),
  users: z.strictObject({ allow: z.array(slackUserId).min(1) }).optional(),
  /**
   * The Slack workspace(s) served: requests from other teams or Enterprise Grid orgs are
   * refused. Without it, only the bot token's own workspace (auth.test) is served.
   */
  slack: z
    .strictObject({
      teams: z
        .array(z.string().regex(/^T[A-Z0-9]{2,}$/, 'must be a Slack team id such as T0123456789'))
        .default([]),
      enterprises: z
        .array(z.string().regex(/^E[A-Z0-9]{2,}$/, 'must be a Slack Enterprise Grid id such as E0123456789'))
        .default([]),
    })
    .optional(),
  rateLimits: z
    .strictObject({
      enabled: z.boolean().default(true),
      perUser: window.default({ max: 5, windowSeconds: 60 }),
      perChannel: window.default({ max: 20, windowSeconds: 60 }),
      /** Approval requests one user may have waiting at once. */
      openRequestsPerUser: z.number().int().min(1).max(50).default(3),
    })
    .default({
      enabled: true,
      perUser: { max: 5, windowSeconds: 60 },
      perChannel: { max: 20, windowSeconds: 60 },
      openRequestsPerUser: 3,
    }),
  worker: z
    .strictObject({
      concurrency: z.number().int().min(1).max(64).default(4),
      /** Seconds a diagnosis may take before it is reported as failed. */
      timeoutSeconds: z.number().int().min(10).max(900).default(120),
    })
    .default({ concurrency: 4, timeoutSeconds: 120 }),
});

export type Config = z.infer<typeof configSchema>;
export type ClusterConfig = Config['clusters'][number];
export type ApprovalPolicy = z.infer<typeof approvalsSchema>['yellow'];
export type PagerDutyConfig = NonNullable<Config['pagerduty']>;
export type PagerDutyServiceConfig = PagerDutyConfig['services'][number];

/** What a worker process can serve (KPROXY_WORKER_QUEUES). */
export const workerQueues = ['diagnose', 'execute', 'pagerduty'] as const;
export type WorkerQueue = (typeof workerQueues)[number];

export const envSchema = z.object({
  SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)'),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: z.url().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  KPROXY_CONFIG: z.string().min(1).default('kproxy.yaml'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  /** The address the Slack listener (or the worker's probes) binds. */
  BIND_ADDRESS: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  /** The bot's probes and metrics: a listener of their own, not exposed with the Slack endpoint. */
  HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).default(9090),
  HEALTH_BIND_ADDRESS: z.union([z.ipv4(), z.ipv6()]).default('0.0.0.0'),
  /** Webhook signing secrets, comma-separated (several during rotation). */
  PAGERDUTY_WEBHOOK_SECRETS: z.string().min(1).optional(),
  /** REST API token: reads alert custom_details and posts notes. */
  PAGERDUTY_API_TOKEN: z.string().min(1).optional(),
  /**
   * The queues a worker process serves, comma-separated. Approved actions (`execute`) can run
   * in their own process under an identity that alone holds the write permissions.
   */
  KPROXY_WORKER_QUEUES: z
    .string()
    .transform((s) => s.split(',').map((q) => q.trim()))
    .pipe(z.array(z.enum(workerQueues, { error: `each must be one of ${workerQueues.join(', ')}` })).min(1))
    .default([...workerQueues]),
  /**
   * chat.postMessage pacing per channel: milliseconds per message (Slack: about one per
   * second per channel). 0 turns pacing off (a Slack that does not limit, such as a test
   * double: the benchmark's floor); 429s are still waited out.
   */
  KPROXY_SLACK_PACE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends KproxyError {
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super('usage', `${source}: ${problems.length} problem(s):\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/**
 * Every problem of a configuration in one pass: YAML syntax, then the schema and the
 * cross-references together, each with its line and column.
 */
export function parseConfig(text: string, source: string): Config {
  const yaml = new YamlSource(text);
  if (yaml.syntaxProblems.length > 0) throw new ConfigError(source, yaml.syntaxProblems.map(formatProblem));
  const parsed = configSchema.safeParse(yaml.value, { error: inWords });
  const problems = [
    ...(parsed.success ? crossKeyProblems(yaml.value, parsed.data) : problemsOf(parsed.error)),
    ...crossReferences(yaml.value),
  ]
    .map((p) => yaml.locate(p))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (!parsed.success || problems.length > 0) throw new ConfigError(source, problems.map(formatProblem));
  return deepFreeze(parsed.data);
}

/** Names used twice and references to clusters that do not exist, read from the raw file. */
function crossReferences(doc: unknown): Problem[] {
  const record = (v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const names = list(record(doc).clusters).map((c) => record(c).name);
  const problems: Problem[] = [];
  names.forEach((name, i) => {
    if (typeof name === 'string' && names.indexOf(name) !== i)
      problems.push({ path: ['clusters', i, 'name'], message: `the name "${name}" is used twice` });
  });
  list(record(record(doc).pagerduty).services).forEach((service, i) => {
    const cluster = record(service).cluster;
    if (typeof cluster === 'string' && !names.includes(cluster))
      problems.push({
        path: ['pagerduty', 'services', i, 'cluster'],
        message: `no cluster named "${cluster}" under clusters`,
      });
  });
  return problems;
}

export async function loadConfig(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  const config = parseConfig(text, path);
  const files = await fileProblems(config);
  if (files.length > 0) throw new ConfigError(path, files.map(formatProblem));
  return config;
}

/** Reads the environment once; secrets stay here and are never logged. */
export function parseEnv(env: NodeJS.ProcessEnv, mode: 'bot' | 'worker'): Env {
  const parsed = envSchema.safeParse(env, { error: inWords });
  if (!parsed.success) throw new ConfigError('environment', problemsOf(parsed.error).map(formatProblem));
  if (mode === 'bot' && !parsed.data.SLACK_SIGNING_SECRET && !parsed.data.SLACK_APP_TOKEN) {
    throw new ConfigError('environment', [
      'SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) must be set',
    ]);
  }
  return parsed.data;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
