/**
 * A fake EC2 Query API on loopback, answering the six Describe calls kproxy makes from a
 * bundle's `eks/ec2/*.json`, in XML (ec2-xml.ts). Strict where EC2 is (EC2 API
 * Reference: "Query requests", "Common query parameters", "Error codes"): POST form
 * bodies with `Action` and `Version=2016-11-15`; requests must be SigV4-signed for the
 * `ec2` service (MissingAuthenticationToken otherwise); unknown actions are
 * InvalidAction, unknown filters InvalidParameterValue, ids that do not exist their
 * `*.NotFound` code; a denied action is 403 UnauthorizedOperation.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ec2Error, ec2Response } from './ec2-xml.js';

type Json = Record<string, unknown>;
type Item = Json & { [k: string]: unknown };

interface ActionSpec {
  file: string;
  key: string;
  /** The `Xxx.N` id parameter and the item field it selects, with the NotFound code. */
  ids?: { param: string; field: string; notFound: string };
  /** Filter names this fake evaluates, with how. */
  filters: Record<string, (item: Item, values: string[]) => boolean>;
}

const assoc = (field: string) => (item: Item, values: string[]) =>
  ((item.Associations as Item[] | undefined) ?? []).some((a) => values.includes(String(a[field])));

const actions: Record<string, ActionSpec> = {
  DescribeInstances: {
    file: 'instances.json',
    key: 'Reservations',
    ids: { param: 'InstanceId', field: 'InstanceId', notFound: 'InvalidInstanceID.NotFound' },
    filters: {},
  },
  DescribeSecurityGroups: {
    file: 'security-groups.json',
    key: 'SecurityGroups',
    ids: { param: 'GroupId', field: 'GroupId', notFound: 'InvalidGroup.NotFound' },
    filters: { 'vpc-id': (i, v) => v.includes(String(i.VpcId)) },
  },
  DescribeSubnets: {
    file: 'subnets.json',
    key: 'Subnets',
    ids: { param: 'SubnetId', field: 'SubnetId', notFound: 'InvalidSubnetID.NotFound' },
    filters: { 'vpc-id': (i, v) => v.includes(String(i.VpcId)) },
  },
  DescribeNetworkAcls: {
    file: 'network-acls.json',
    key: 'NetworkAcls',
    filters: { 'association.subnet-id': assoc('SubnetId'), 'vpc-id': (i, v) => v.includes(String(i.VpcId)) },
  },
  DescribeRouteTables: {
    file: 'route-tables.json',
    key: 'RouteTables',
    filters: {
      'association.subnet-id': assoc('SubnetId'),
      'association.main': assoc('Main'),
      'vpc-id': (i, v) => v.includes(String(i.VpcId)),
    },
  },
  DescribeNatGateways: {
    file: 'nat-gateways.json',
    key: 'NatGateways',
    ids: { param: 'NatGatewayId', field: 'NatGatewayId', notFound: 'NatGatewayNotFound' },
    filters: { 'vpc-id': (i, v) => v.includes(String(i.VpcId)) },
  },
};

export class FakeEc2 {
  readonly requests: { action: string; params: Record<string, string>; authorization: string | undefined }[] =
    [];
  /** Actions answered with 403 UnauthorizedOperation (a role without that permission). */
  readonly denied = new Set<string>();
  private server: Server | undefined;

  constructor(private readonly bundleDir: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo | undefined)?.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const params = Object.fromEntries(new URLSearchParams(raw));
    const authorization = req.headers.authorization;
    const action = params.Action ?? '';
    this.requests.push({ action, params, authorization });
    const id = randomUUID();
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(ec2Error(code, message, id));
    };
    if (
      req.method !== 'POST' ||
      !/application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')
    )
      return fail(400, 'InvalidParameterValue', 'Query requests are POST form bodies here');
    if (
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/ec2\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
        authorization ?? '',
      )
    )
      return fail(
        401,
        'MissingAuthenticationToken',
        'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
      );
    if (params.Version !== '2016-11-15')
      return fail(400, 'InvalidParameterValue', `Invalid API version: ${params.Version ?? ''}`);
    const spec = actions[action];
    if (!spec) return fail(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    if (this.denied.has(action))
      return fail(
        403,
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: arn:aws:sts::123456789012:assumed-role/kproxy/kproxy is not authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`,
      );
    const doc = JSON.parse(
      await readFile(path.join(this.bundleDir, 'eks', 'ec2', spec.file), 'utf8'),
    ) as Json;
    let items = (doc[spec.key] as Item[] | undefined) ?? [];
    const filters = listParams(params, 'Filter');
    for (const f of filters) {
      const evaluate = spec.filters[f.name];
      if (!evaluate) return fail(400, 'InvalidParameterValue', `The filter '${f.name}' is invalid`);
      items = items.filter((i) => evaluate(i, f.values));
    }
    if (spec.ids) {
      const wanted = indexed(params, spec.ids.param);
      if (wanted.length > 0) {
        const field = spec.ids.field;
        const has = (i: Item, v: string) =>
          spec.key === 'Reservations'
            ? ((i.Instances as Item[] | undefined) ?? []).some((x) => x[field] === v)
            : i[field] === v;
        const missingIds = wanted.filter((v) => !items.some((i) => has(i, v)));
        if (missingIds.length > 0)
          return fail(400, spec.ids.notFound, `The ID '${missingIds.join(', ')}' does not exist`);
        items = items.filter((i) => wanted.some((v) => has(i, v)));
      }
    }
    res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(ec2Response(action, id, { [spec.key]: items }));
  }
}

/** `GroupId.1=a&GroupId.2=b` → [a, b]. */
function indexed(params: Record<string, string>, name: string): string[] {
  return Object.entries(params)
    .filter(([k]) => new RegExp(`^${name}\\.\\d+$`).test(k))
    .sort(([a], [b]) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)))
    .map(([, v]) => v);
}

/** `Filter.1.Name=x&Filter.1.Value.1=y` → [{ name: x, values: [y] }]. */
function listParams(params: Record<string, string>, name: string): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; params[`${name}.${i}.Name`] !== undefined; i++)
    out.push({ name: params[`${name}.${i}.Name`] ?? '', values: indexed(params, `${name}\\.${i}\\.Value`) });
  return out;
}
