/** kproxy through its real entry point (`start('all')`: bot + workers), against the fake Slack. */
import { type Running, start } from '../../src/main.js';
import type { FakeSlack } from './fake-slack.js';
import { signingSecret } from './slack-requests.js';

export async function startAll(
  slack: FakeSlack,
  redisUrl: string,
  configPath: string,
  env: Record<string, string> = {},
): Promise<{ running: Running; url: string; healthUrl: string }> {
  const running = await start('all', {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_API_URL: slack.apiUrl,
    REDIS_URL: redisUrl,
    KPROXY_CONFIG: configPath,
    PORT: '0',
    HEALTH_PORT: '0',
    ...env,
  });
  return {
    running,
    url: `http://127.0.0.1:${running.port}`,
    healthUrl: `http://127.0.0.1:${running.healthPort}`,
  };
}
