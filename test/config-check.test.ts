/**
 * `kproxy config check` and start-up validation: every problem of a configuration in one
 * pass (YAML syntax; schema and cross-references together), each in words with its key
 * path, line and column.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, parseEnv } from '../src/config/config.js';

function problems(text: string): readonly string[] {
  try {
    parseConfig(text, 'kproxy.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration problems', () => {
  it('reports schema and cross-reference problems together, in file order, with line and column', () => {
    const text = [
      'clusters:',
      '  - name: Prod_East',
      '    channels: general',
      '    kubeconfig: { path: /x, context: y }',
      '  - name: prod-west',
      '    eks: { name: prod-west, region: us-west-2 }',
      '    channels: [C0INCIDENT1]',
      '    nodeCaptures: sometimes',
      '  - name: prod-west',
      '    inCluster: true',
      '    channels: []',
      'pagerduty:',
      '  services:',
      '    - { id: PABC123, cluster: staging, channel: C0INCIDENT1 }',
      'rateLimits: { perUser: { max: "5", windowSeconds: 60 } }',
      'bogus: 1',
    ].join('\n');
    expect(problems(text)).toEqual([
      'line 2, column 5: clusters[0].name: must be lower-case letters, digits and "-"',
      'line 3, column 5: clusters[0].channels: must be a list, not the string "general"',
      'line 8, column 5: clusters[1].nodeCaptures: must be one of "off", "exec", "debug-pod"',
      'line 9, column 5: clusters[2].name: the name "prod-west" is used twice',
      'line 11, column 5: clusters[2].channels: must list at least 1 item(s)',
      'line 14, column 22: pagerduty.services[0].cluster: no cluster named "staging" under clusters',
      'line 15, column 26: rateLimits.perUser.max: must be a number, not the string "5"',
      'line 16, column 1: bogus: unknown key',
    ]);
  });

  it('says what is missing and where it belongs, and where the YAML itself breaks', () => {
    expect(problems('approvals: {}\n')).toEqual(['line 1, column 1: clusters: is required (a list)']);
    expect(problems('clusters:\n  - name: a\n    channels: [C0INCIDENT1]\n')).toEqual([
      'line 2, column 5: clusters[0]: set exactly one of kubeconfig, eks or inCluster',
    ]);
    expect(problems('clusters:\n  - name: a\n    channels: [C1\n')).toEqual([
      expect.stringMatching(/^line 4, column 1: not valid YAML: /),
    ]);
  });

  it('names environment variables in words too', () => {
    expect(() => parseEnv({}, 'worker')).toThrow(/SLACK_BOT_TOKEN: is required \(a string\)/);
  });
});
