/**
 * A fake CloudWatch Logs API on loopback: FilterLogEvents over the kube-apiserver audit
 * stream of an EKS cluster, whose events are a bundle's `eks/audit.jsonl` lines, plus a
 * non-audit stream the prefix must leave out. JSON 1.1 protocol as the service speaks it
 * (CloudWatch Logs API Reference, "FilterLogEvents", "Common errors"): POST with
 * `X-Amz-Target: Logs_20140328.<Operation>` and `Content-Type: application/x-amz-json-1.1`,
 * SigV4 for the `logs` service (MissingAuthenticationTokenException otherwise), errors as
 * `{"__type", "message"}`; an unknown log group is ResourceNotFoundException, `limit`
 * outside 1..10000 InvalidParameterException; pages carry an opaque `nextToken`.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { compileFilterPattern } from './filter-pattern.js';

interface LogEvent {
  logStreamName: string;
  timestamp: number;
  message: string;
}

export class FakeCloudWatchLogs {
  readonly requests: { target: string; body: Record<string, unknown>; authorization: string | undefined }[] =
    [];
  /** Answer FilterLogEvents with AccessDeniedException. */
  denied = false;
  /** Events per page at most (the service decides its own page sizes). */
  pageSize = 2;
  private server: Server | undefined;
  private events: LogEvent[] = [];

  constructor(
    private readonly bundleDir: string,
    private readonly cluster: string,
  ) {}

  async start(): Promise<string> {
    const text = await readFile(path.join(this.bundleDir, 'eks', 'audit.jsonl'), 'utf8').catch(() => '');
    this.events = text
      .split('\n')
      .filter((l) => l.trim())
      .map((message) => {
        const e = JSON.parse(message) as { stageTimestamp?: string };
        return {
          logStreamName: 'kube-apiserver-audit-8a5f3c1e0b2d4f6a',
          timestamp: Date.parse(e.stageTimestamp ?? ''),
          message,
        };
      });
    // kube-apiserver's own log shares the group; a prefix of kube-apiserver-audit excludes it.
    this.events.push({
      logStreamName: 'kube-apiserver-8a5f3c1e0b2d4f6a',
      timestamp: this.events[0]?.timestamp ?? 0,
      message: 'I1122 09:31:00.131904      10 trace.go:236] Trace[1]: "Patch" verb="patch" {"verb":"patch"}',
    });
    this.events.sort((a, b) => a.timestamp - b.timestamp);
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
    const target = String(req.headers['x-amz-target'] ?? '');
    const authorization = req.headers.authorization;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    };
    const fail = (type: string, message: string, status = 400) => send(status, { __type: type, message });
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return fail('SerializationException', 'body is not JSON');
    }
    this.requests.push({ target, body, authorization });
    if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return fail('UnknownOperationException', 'expected POST application/x-amz-json-1.1');
    if (
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[a-z0-9-]+\/logs\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.test(
        authorization ?? '',
      )
    )
      return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
    if (target !== 'Logs_20140328.FilterLogEvents')
      return fail('UnknownOperationException', `unknown operation ${target}`);
    const group = `/aws/eks/${this.cluster}/cluster`;
    if (this.denied)
      return fail(
        'AccessDeniedException',
        `User: arn:aws:sts::123456789012:assumed-role/kproxy/kproxy is not authorized to perform: logs:FilterLogEvents on resource: arn:aws:logs:us-west-2:123456789012:log-group:${group}:log-stream: because no identity-based policy allows the logs:FilterLogEvents action`,
      );
    if (body.logGroupName !== group)
      return fail('ResourceNotFoundException', 'The specified log group does not exist.');
    const limit = (body.limit as number | undefined) ?? 10000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10000)
      return fail(
        'InvalidParameterException',
        `1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint`,
      );
    let match: (m: string) => boolean = () => true;
    try {
      if (typeof body.filterPattern === 'string' && body.filterPattern)
        match = compileFilterPattern(body.filterPattern);
    } catch (error) {
      return fail('InvalidParameterException', `Invalid filter pattern: ${(error as Error).message}`);
    }
    const start = (body.startTime as number | undefined) ?? 0;
    const end = (body.endTime as number | undefined) ?? Number.MAX_SAFE_INTEGER;
    const prefix = (body.logStreamNamePrefix as string | undefined) ?? '';
    const selected = this.events.filter(
      (e) =>
        e.logStreamName.startsWith(prefix) && e.timestamp >= start && e.timestamp <= end && match(e.message),
    );
    const offset = body.nextToken
      ? Number(Buffer.from(String(body.nextToken), 'base64url').toString().split(':')[1])
      : 0;
    const page = selected.slice(offset, offset + Math.min(limit, this.pageSize));
    const next = offset + page.length;
    send(200, {
      events: page.map((e, i) => ({
        ...e,
        ingestionTime: e.timestamp + 1200,
        eventId: `${e.timestamp}${offset + i}`,
      })),
      searchedLogStreams: [],
      ...(next < selected.length ? { nextToken: Buffer.from(`v1:${next}`).toString('base64url') } : {}),
    });
  }
}
