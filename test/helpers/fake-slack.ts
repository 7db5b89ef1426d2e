/**
 * A fake Slack Web API on loopback for the real Bolt app and WebClient: it records every
 * call, keeps posted messages (threads, metadata) so the bot can read them back, and
 * answers 429 (with Retry-After) or 500 when told to.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

export interface SlackCall {
  readonly method: string;
  readonly params: Record<string, unknown>;
  readonly at: number;
}

export interface StoredMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

interface Fault {
  readonly method: RegExp;
  readonly status: 200 | 429 | 500;
  readonly retryAfter?: number;
  /** With status 200: the Web API error, as Slack answers it (`{ok: false, error}`). */
  readonly error?: string;
  remaining: number;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: { path: string; body: Record<string, unknown> }[] = [];
  readonly messages: StoredMessage[] = [];
  private readonly faults: Fault[] = [];
  /** Until `until` (epoch ms), matching methods answer 429 with this Retry-After: an outage window. */
  rateLimitWindow: { until: number; method: RegExp; retryAfter: number } | undefined;
  /** 429s answered inside the rate-limit window. */
  windowRateLimited = 0;
  /** When set, chat.postMessage answers 429 past this rate per channel, as Slack does. */
  perChannelLimit: { perSecond: number; burst: number } | undefined;
  readonly rateLimited: string[] = [];
  /** Runs after a Web API call is recorded and before it is answered (to act at that moment). */
  beforeAnswer: ((method: string, params: Record<string, unknown>) => Promise<void>) | undefined;
  /** Members of Slack user groups, for usergroups.users.list. */
  readonly groupMembers = new Map<string, string[]>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private server: Server | undefined;
  private counter = 0;
  private readonly wss = new WebSocketServer({ noServer: true });
  /** Open Socket Mode connections (apps.connections.open hands out ws://…/link). */
  readonly sockets: WebSocket[] = [];

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket, head) => {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.push(ws);
        ws.send(
          JSON.stringify({
            type: 'hello',
            num_connections: 1,
            debug_info: { host: 'fake', approximate_connection_time: 18060 },
            connection_info: { app_id: 'A0KPROXY' },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port}`;
  }

  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** Sends a Socket Mode envelope and resolves with the app's acknowledgement. */
  async sendEnvelope(type: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ws = this.sockets.at(-1);
    if (!ws) throw new Error('no Socket Mode connection');
    const envelopeId = `env-${++this.counter}`;
    return new Promise((resolve) => {
      const onMessage = (data: Buffer) => {
        const message = JSON.parse(String(data)) as { envelope_id?: string };
        if (message.envelope_id !== envelopeId) return;
        ws.off('message', onMessage);
        resolve(message as Record<string, unknown>);
      };
      ws.on('message', onMessage);
      ws.send(JSON.stringify({ envelope_id: envelopeId, payload, type, accepts_response_payload: true }));
    });
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** The next `times` calls of matching methods answer with `status`. */
  fail(method: RegExp, status: 429 | 500, times: number, retryAfter = 1): void {
    this.faults.push({ method, status, retryAfter, remaining: times });
  }

  /**
   * The next `times` calls of matching methods are refused the way the Web API refuses a
   * call: HTTP 200 with `{ok: false, error}` (https://api.slack.com/web#responses; e.g.
   * chat.postMessage's `not_in_channel`, https://api.slack.com/methods/chat.postMessage#errors).
   */
  refuse(method: RegExp, error: string, times: number): void {
    this.faults.push({ method, status: 200, error, remaining: times });
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Report messages: posted with kproxy_diagnosis metadata. */
  reports(): StoredMessage[] {
    return this.messages.filter((m) => m.metadata?.event_type === 'kproxy_diagnosis');
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const raw = await new Promise<string>((resolve) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => resolve(body));
    });
    const params = parseBody(raw, req.headers['content-type'] ?? '');
    const path = req.url ?? '';
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (!path.startsWith('/api/')) {
      this.responses.push({ path, body: params });
      send(200, { ok: true });
      return;
    }
    const method = path.slice('/api/'.length).split('?')[0] ?? '';
    this.calls.push({ method, params, at: Date.now() });
    await this.beforeAnswer?.(method, params);
    const window = this.rateLimitWindow;
    if (window && Date.now() < window.until && window.method.test(method)) {
      this.windowRateLimited++;
      send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(window.retryAfter) });
      return;
    }
    if (method === 'chat.postMessage' && this.perChannelLimit && !this.takeToken(String(params.channel))) {
      this.rateLimited.push(String(params.channel));
      send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
      return;
    }
    const fault = this.faults.find((f) => f.remaining > 0 && f.method.test(method));
    if (fault) {
      fault.remaining--;
      if (fault.status === 429)
        send(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(fault.retryAfter ?? 1) });
      else if (fault.status === 200) send(200, { ok: false, error: fault.error });
      else send(500, { ok: false, error: 'internal_error' });
      return;
    }
    send(200, this.answer(method, params));
  }

  /** A token bucket per channel: `burst` at once, then `perSecond`. */
  private takeToken(channel: string): boolean {
    const limit = this.perChannelLimit;
    if (!limit) return true;
    const now = Date.now();
    const bucket = this.buckets.get(channel) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    this.buckets.set(channel, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private answer(method: string, p: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: 'https://acme.slack.com/',
          team: 'acme',
          user: 'kproxy',
          team_id: 'T0TEST',
          user_id: 'U0KPROXY',
          bot_id: 'B0KPROXY',
        };
      case 'api.test':
        return { ok: true };
      case 'apps.connections.open':
        return { ok: true, url: `${this.url.replace('http', 'ws')}/link` };
      case 'chat.postMessage': {
        this.counter++;
        const message: StoredMessage = {
          channel: String(p.channel),
          ts: `${1_763_805_600 + this.counter}.${String(this.counter).padStart(6, '0')}`,
          ...(p.thread_ts ? { thread_ts: String(p.thread_ts) } : {}),
          ...(p.text ? { text: String(p.text) } : {}),
          ...(p.blocks ? { blocks: p.blocks as unknown[] } : {}),
          ...(p.metadata ? { metadata: p.metadata as StoredMessage['metadata'] } : {}),
        } as StoredMessage;
        this.messages.push(message);
        return { ok: true, channel: message.channel, ts: message.ts, message };
      }
      case 'chat.update': {
        const m = this.messages.find((x) => x.channel === p.channel && x.ts === p.ts);
        if (!m) return { ok: false, error: 'message_not_found' };
        m.text = String(p.text ?? m.text);
        if (p.blocks) m.blocks = p.blocks as unknown[];
        return { ok: true, channel: m.channel, ts: m.ts };
      }
      case 'usergroups.users.list':
        return { ok: true, users: this.groupMembers.get(String(p.usergroup)) ?? [] };
      case 'chat.getPermalink':
        return {
          ok: true,
          permalink: `https://acme.slack.com/archives/${p.channel}/p${String(p.message_ts).replace('.', '')}`,
        };
      case 'conversations.replies':
        return {
          ok: true,
          messages: this.messages.filter(
            (m) => m.channel === p.channel && (m.ts === p.ts || m.thread_ts === p.ts),
          ),
        };
      default:
        return { ok: true };
    }
  }
}

function parseBody(raw: string, type: string): Record<string, unknown> {
  if (!raw) return {};
  if (type.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    try {
      out[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
    } catch {
      out[k] = v;
    }
  }
  return out;
}
