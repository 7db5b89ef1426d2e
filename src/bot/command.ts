/**
 * `/kproxy` command text: `diagnose <cluster> [<namespace>/<service> [from <namespace>/<name>]] [--node <node>]`,
 * `clusters`, `help`. Anything else is refused with a usage message naming the problem.
 */
import { z } from 'zod';
import { clientRefSchema, nodeNameSchema, routeRefSchema, serviceRefSchema } from '../cli/target.js';

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);

/** What a parsed command must be: the last check before anything is enqueued. */
export const commandSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('diagnose'),
    cluster: dnsLabel,
    namespace: dnsLabel.optional(),
    service: dnsLabel.optional(),
    node: nodeNameSchema.optional(),
    /** The failing client, `namespace/name` (a Pod, Deployment, StatefulSet or DaemonSet). */
    from: clientRefSchema.optional(),
    /** The Ingress or HTTPRoute clients go through (`ingress <namespace>/<name>`). */
    route: z
      .strictObject({
        kind: z.enum(['Ingress', 'HTTPRoute']),
        namespace: dnsLabel,
        name: z.string().min(1).max(253),
      })
      .optional(),
  }),
  z.strictObject({ kind: z.literal('clusters') }),
  z.strictObject({ kind: z.literal('audit'), count: z.number().int().min(1).max(50) }),
  z.strictObject({ kind: z.literal('help') }),
]);

export type Command = z.infer<typeof commandSchema>;

export type ParsedCommand =
  | { readonly ok: true; readonly command: Command }
  | { readonly ok: false; readonly problem: string };

export const commandUsage = [
  '*Usage*',
  '• `/kproxy diagnose <cluster> [<namespace>/<service> [from <namespace>/<name>]] [--node <node>]` — find why a Service is unreachable (without a Service: kube-proxy health across the cluster); `from` names the failing client (a Pod, Deployment, StatefulSet or DaemonSet)',
  "• `/kproxy diagnose <cluster> ingress <namespace>/<name>` (or `httproute <namespace>/<name>`) — the north-south path: the route's backends, its controller and load balancer, then the backend Service",
  '• `/kproxy clusters` — the clusters this channel may diagnose',
  '• `/kproxy audit [n]` — the last n approval events (approvers only)',
  '• `/kproxy help` — this message',
  'Example: `/kproxy diagnose prod-east app/web-api --node ip-10-0-1-23.ec2.internal`',
].join('\n');

const maxTextLength = 500;

export function parseCommand(text: string): ParsedCommand {
  const parsed = parseWords(text);
  if (!parsed.ok) return parsed;
  const valid = commandSchema.safeParse(parsed.command);
  return valid.success
    ? { ok: true, command: valid.data }
    : { ok: false, problem: `invalid command: ${valid.error.issues[0]?.message}` };
}

function parseWords(text: string): ParsedCommand {
  if (text.length > maxTextLength)
    return { ok: false, problem: `the command is longer than ${maxTextLength} characters` };
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb, ...args] = words;
  if (!verb || verb === 'help') return { ok: true, command: { kind: 'help' } };
  if (verb === 'clusters') {
    return args.length === 0
      ? { ok: true, command: { kind: 'clusters' } }
      : { ok: false, problem: '`clusters` takes no arguments' };
  }
  if (verb === 'audit') {
    if (args.length > 1 || (args[0] !== undefined && !/^\d{1,2}$/.test(args[0])))
      return { ok: false, problem: '`audit` takes at most a number (1-50)' };
    return { ok: true, command: { kind: 'audit', count: Math.min(50, Math.max(1, Number(args[0] ?? 10))) } };
  }
  if (verb !== 'diagnose') return { ok: false, problem: `unknown command \`${clip(verb)}\`` };
  return parseDiagnose(args);
}

function parseDiagnose(args: string[]): ParsedCommand {
  const positional: string[] = [];
  let node: string | undefined;
  let from: string | undefined;
  let route: { kind: 'Ingress' | 'HTTPRoute'; namespace: string; name: string } | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    // A keyword after the cluster name only: a cluster may itself be called `ingress`.
    if ((arg === 'ingress' || arg === 'httproute') && positional.length >= 1) {
      const value = args[++i];
      if (!value)
        return {
          ok: false,
          problem: `\`${arg}\` needs the ${arg === 'ingress' ? 'Ingress' : 'HTTPRoute'} as <namespace>/<name>`,
        };
      if (route) return { ok: false, problem: 'give one `ingress` or `httproute`' };
      const valid = routeRefSchema.safeParse(value);
      if (!valid.success)
        return { ok: false, problem: `\`${arg} ${clip(value)}\` ${valid.error.issues[0]?.message}` };
      const [namespace, name] = value.split('/') as [string, string];
      route = { kind: arg === 'ingress' ? 'Ingress' : 'HTTPRoute', namespace, name };
    } else if (arg === 'from') {
      const value = args[++i];
      if (!value) return { ok: false, problem: '`from` needs the client as <namespace>/<name>' };
      if (from) return { ok: false, problem: '`from` given twice' };
      const valid = clientRefSchema.safeParse(value);
      if (!valid.success)
        return { ok: false, problem: `\`from ${clip(value)}\` ${valid.error.issues[0]?.message}` };
      from = value;
    } else if (arg === '--node') {
      const value = args[++i];
      if (!value) return { ok: false, problem: '`--node` needs a node name' };
      if (node) return { ok: false, problem: '`--node` given twice' };
      const valid = nodeNameSchema.safeParse(value);
      if (!valid.success)
        return { ok: false, problem: `\`--node ${clip(value)}\` ${valid.error.issues[0]?.message}` };
      node = value;
    } else if (arg.startsWith('--')) {
      return { ok: false, problem: `unknown option \`${clip(arg)}\`` };
    } else positional.push(arg);
  }
  const [cluster, service, ...extra] = positional;
  if (!cluster) return { ok: false, problem: '`diagnose` needs a cluster name' };
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(cluster))
    return { ok: false, problem: `\`${clip(cluster)}\` is not a cluster name` };
  if (extra.length > 0) return { ok: false, problem: `unexpected \`${clip(extra.join(' '))}\`` };
  if (route) {
    if (service !== undefined)
      return {
        ok: false,
        problem: `\`${route.kind === 'Ingress' ? 'ingress' : 'httproute'}\` and a Service exclude each other: the route names its Services`,
      };
    if (from) return { ok: false, problem: '`from` needs a Service, not a route' };
    return { ok: true, command: { kind: 'diagnose', cluster, route, ...(node ? { node } : {}) } };
  }
  if (service === undefined && from)
    return {
      ok: false,
      problem: '`from` needs a Service: `diagnose <cluster> <namespace>/<service> from <namespace>/<name>`',
    };
  if (service === undefined)
    return { ok: true, command: { kind: 'diagnose', cluster, ...(node ? { node } : {}) } };
  const ref = serviceRefSchema.safeParse(service);
  if (!ref.success) return { ok: false, problem: `\`${clip(service)}\` ${ref.error.issues[0]?.message}` };
  const [namespace, name] = service.split('/') as [string, string];
  return {
    ok: true,
    command: {
      kind: 'diagnose',
      cluster,
      namespace,
      service: name,
      ...(node ? { node } : {}),
      ...(from ? { from } : {}),
    },
  };
}

/** Echo user input back safely: short, and no Slack markup or mentions. */
function clip(text: string): string {
  return text.slice(0, 60).replace(/[`<>&*_~]/g, '');
}
