/**
 * drain-node through Slack on a node whose pods use emptyDir volumes: like `kubectl drain`
 * without `--delete-emptydir-data`, nothing is drained unless the requester ticks that the
 * data may be lost; then the dry run lists the loss and the approver approves it knowingly.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { copyExample } from './helpers/bundles.js';
import type { StoredMessage } from './helpers/fake-slack.js';
import { flushRedis } from './helpers/redis-server.js';
import { postCommand, postViewSubmission } from './helpers/slack-requests.js';
import { controlsOf, type Stack, startStack, waitFor } from './helpers/stack.js';

const redisUrl = inject('redisUrl');
const n2 = 'ip-10-0-2-45.ec2.internal';
const requester = 'U0ONCALL01';
const redApprover = 'U0REDAPPR1';
const webApiPod = 'web-api-7c9d8b6f5d-8mzt2';
const reason =
  'Rules on ip-10-0-2-45 stay stale after the kube-proxy restart; replacing the node (INC-4242).';
const cleanups: (() => Promise<unknown>)[] = [];

beforeEach(() => flushRedis(redisUrl));
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The stale-endpoints incident, with the web-api pod on the node using an emptyDir cache. */
async function stackWithEmptyDir(): Promise<Stack> {
  const copy = await copyExample('stale-endpoints');
  cleanups.push(copy.cleanup);
  const file = path.join(copy.dir, 'namespaces', 'app', 'pods.json');
  const doc = JSON.parse(await readFile(file, 'utf8')) as {
    items: { metadata: { name: string }; spec: { volumes?: unknown[] } }[];
  };
  const pod = doc.items.find((p) => p.metadata.name === webApiPod);
  if (!pod) throw new Error(`${webApiPod} is not in the example`);
  pod.spec.volumes = [...(pod.spec.volumes ?? []), { name: 'cache', emptyDir: {} }];
  await writeFile(file, JSON.stringify(doc));
  const s = await startStack({
    redisUrl,
    bundleDir: copy.dir,
    extraConfig: `approvals:\n  red: { approvers: { users: [${redApprover}] }, required: 1 }\n`,
  });
  cleanups.push(() => s.stop());
  return s;
}

async function requestDrain(s: Stack, acceptDataLoss: boolean): Promise<void> {
  await postCommand(s.botUrl, `diagnose prod-east app/web-api --node ${n2}`, { user: requester });
  const [report] = await waitFor('the report', () =>
    s.slack.reports().length ? s.slack.reports() : undefined,
  );
  const { button, click } = controlsOf(s, report as StoredMessage);
  await click(requester, 'kproxy_request_action_2', button('drain-node'));
  const view = await waitFor('the reason modal', () =>
    s.slack
      .callsOf('views.open')
      .map(
        (c) =>
          c.params.view as {
            callback_id: string;
            private_metadata: string;
            blocks: unknown[];
          },
      )
      .find((v) => v.callback_id === 'kproxy_red_reason'),
  );
  expect(JSON.stringify(view.blocks)).toContain('their emptyDir data is lost');
  const submitted = await postViewSubmission(s.botUrl, {
    user: requester,
    callbackId: 'kproxy_red_reason',
    privateMetadata: view.private_metadata,
    values: {
      reason: { reason_input: { type: 'plain_text_input', value: reason } },
      data_loss: {
        data_loss_input: {
          type: 'checkboxes',
          selected_options: acceptDataLoss ? [{ value: 'accept' }] : [],
        },
      },
    },
  });
  expect(submitted.body).toEqual({});
}

const approvalMessage = (s: Stack) =>
  s.slack.messages.find((m) => m.text?.startsWith('Approval needed: drain-node'));

describe('drain-node on a node with emptyDir pods, through Slack', () => {
  it('without the requester accepting the data loss, the request closes itself and nothing is written', async () => {
    const s = await stackWithEmptyDir();
    await requestDrain(s, false);
    const message = await waitFor('the approval message', () => approvalMessage(s));
    await waitFor('the dry run refusing the drain', () =>
      JSON.stringify(s.slack.messages.find((m) => m.ts === message.ts)?.blocks ?? '').includes(
        'not drained unless the approver accepts losing that data',
      ),
    );
    expect(s.api.server.mutations).toEqual([]);
  });

  it('accepted: the dry run lists the loss, the approver confirms, and the pod is evicted', async () => {
    const s = await stackWithEmptyDir();
    await requestDrain(s, true);
    const message = await waitFor('the approval message', () => approvalMessage(s));
    await waitFor('the dry run listing the data loss', () =>
      JSON.stringify(s.slack.messages.find((m) => m.ts === message.ts)?.blocks ?? '').includes(
        `EVICT Pod app/${webApiPod} (its emptyDir data is lost)`,
      ),
    );
    const approvalId = controlsOf(s, message).button();
    await controlsOf(s, message).click(redApprover, 'kproxy_approve', approvalId, message.ts);
    await waitFor('the confirmation modal', () =>
      s.slack
        .callsOf('views.open')
        .some((c) => (c.params.view as { callback_id: string }).callback_id === 'kproxy_red_confirm'),
    );
    const confirmed = await postViewSubmission(s.botUrl, {
      user: redApprover,
      callbackId: 'kproxy_red_confirm',
      privateMetadata: approvalId,
      values: { confirm: { confirm_input: { type: 'plain_text_input', value: n2 } } },
    });
    expect(confirmed.body).toEqual({});
    await waitFor('the executed reply', () =>
      s.slack.messages.some((m) => m.text?.startsWith(':white_check_mark: Executed `drain-node`')),
    );
    expect(s.api.server.mutations.map((m) => `${m.method} ${m.path}`)).toContain(
      `POST /api/v1/namespaces/app/pods/${webApiPod}/eviction`,
    );
  });
});
