/**
 * Writes examples/bundles/<scenario>/ and examples/expected.json from the scenario
 * models. Run with `npm run examples` after changing a scenario.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderBundle, writeBundle } from './bundle-builder/render.js';
import { scenarios } from './bundle-builder/scenarios.js';
import { churnScenarios } from './bundle-builder/scenarios-churn.js';
import { eksScenarios } from './bundle-builder/scenarios-eks.js';
import { northSouthScenarios } from './bundle-builder/scenarios-north-south.js';
import { probeScenarios } from './bundle-builder/scenarios-probe.js';
import { type PostRenderScenario, verdictScenarios } from './bundle-builder/scenarios-verdicts.js';

const root = path.resolve(import.meta.dirname, '..', 'examples');

// Bundles recorded from the lab (`npm run examples:lab`, named lab-*) are not generated:
// their expectations are written by hand and kept.
const previous = JSON.parse(await readFile(path.join(root, 'expected.json'), 'utf8')) as Record<
  string,
  unknown
>;
const expected: Record<string, unknown> = Object.fromEntries(
  Object.entries(previous).filter(([name]) => name.startsWith('lab-')),
);
const all: PostRenderScenario[] = [
  ...scenarios,
  ...verdictScenarios,
  ...probeScenarios,
  ...eksScenarios,
  ...churnScenarios,
  ...northSouthScenarios,
];
for (const scenario of all) {
  const files = renderBundle(scenario.build());
  scenario.postRender?.(files);
  await writeBundle(path.join(root, 'bundles', scenario.name), files);
  expected[scenario.name] = { summary: scenario.summary, ...scenario.expected };
  console.log(`${scenario.name}: ${files.size} files → ${scenario.expected.category}`);
}
await writeFile(path.join(root, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
