/** Signed Slack requests, computed as Slack computes them (v0 HMAC-SHA256 of the raw body). */
import { createHmac, randomUUID } from 'node:crypto';

export const signingSecret = 'test-signing-secret-8f3c2b1a';

export function sign(
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
  secret = signingSecret,
): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signature,
    'content-type': 'application/x-www-form-urlencoded',
  };
}

export interface CommandOptions {
  readonly channel?: string;
  readonly user?: string;
  readonly triggerId?: string;
  readonly responseUrl?: string;
  readonly headers?: Record<string, string>;
  readonly timestamp?: number;
  readonly secret?: string;
  /** The workspace the request comes from (Slack's `team_id`). */
  readonly teamId?: string;
}

export async function postCommand(
  botUrl: string,
  text: string,
  o: CommandOptions = {},
): Promise<{ status: number; body: string; ms: number }> {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: o.teamId ?? 'T0TEST',
    team_domain: 'acme',
    channel_id: o.channel ?? 'C0INCIDENT1',
    channel_name: 'incident-4242',
    user_id: o.user ?? 'U0ONCALL01',
    user_name: 'oncall',
    command: '/kproxy',
    text,
    api_app_id: 'A0KPROXY',
    is_enterprise_install: 'false',
    response_url: o.responseUrl ?? 'http://127.0.0.1:9/response',
    trigger_id: o.triggerId ?? `${Date.now()}.${randomUUID()}`,
  }).toString();
  const started = Date.now();
  const res = await fetch(`${botUrl}/slack/events`, {
    method: 'POST',
    body,
    headers: { ...sign(body, o.timestamp, o.secret), ...o.headers },
  });
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

/** A signed `block_actions` click, as Slack sends it (form field `payload`). */
export async function postAction(
  botUrl: string,
  o: {
    user: string;
    actionId: string;
    value: string;
    channel: string;
    messageTs: string;
    threadTs?: string;
    responseUrl: string;
    headers?: Record<string, string>;
    /** The same values make the same interaction (a redelivery or a replay). */
    triggerId?: string;
    actionTs?: string;
    teamId?: string;
  },
): Promise<number> {
  const team = o.teamId ?? 'T0TEST';
  const payload = {
    type: 'block_actions',
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: team },
    api_app_id: 'A0KPROXY',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false },
    trigger_id: o.triggerId ?? `${Date.now()}.${randomUUID()}`,
    team: { id: team, domain: 'acme' },
    channel: { id: o.channel, name: 'incident-4242' },
    message: {
      type: 'message',
      ts: o.messageTs,
      ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
      text: 'report',
    },
    response_url: o.responseUrl,
    actions: [
      {
        action_id: o.actionId,
        block_id: 'b',
        text: { type: 'plain_text', text: 'x' },
        value: o.value,
        type: 'button',
        action_ts: o.actionTs ?? String(Date.now() / 1000),
      },
    ],
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const res = await fetch(`${botUrl}/slack/events`, {
    method: 'POST',
    body,
    headers: { ...sign(body), ...o.headers },
  });
  return res.status;
}

/** A signed `view_submission` (a modal's Submit), as Slack sends it; returns the app's answer. */
export async function postViewSubmission(
  botUrl: string,
  o: {
    user: string;
    callbackId: string;
    privateMetadata: string;
    values: Record<
      string,
      Record<
        string,
        | { type: 'plain_text_input'; value: string | null }
        | { type: 'checkboxes'; selected_options: { value: string }[] }
      >
    >;
  },
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = {
    type: 'view_submission',
    team: { id: 'T0TEST', domain: 'acme' },
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: 'T0TEST' },
    api_app_id: 'A0KPROXY',
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.${randomUUID()}`,
    view: {
      id: `V${randomUUID().slice(0, 10).toUpperCase()}`,
      team_id: 'T0TEST',
      type: 'modal',
      callback_id: o.callbackId,
      private_metadata: o.privateMetadata,
      state: { values: o.values },
      hash: '1700000000.abcdef',
      app_id: 'A0KPROXY',
      bot_id: 'B0KPROXY',
    },
    response_urls: [],
    is_enterprise_install: false,
  };
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const res = await fetch(`${botUrl}/slack/events`, { method: 'POST', body, headers: sign(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
