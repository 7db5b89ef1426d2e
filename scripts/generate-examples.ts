/**
 * Writes examples/bundles/<scenario>/ and examples/expected.json from the scenario
 * models. Run with `npm run examples` after changing a scenario.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { renderBundle, writeBundle } from './bundle-builder/render.js';
import { scenarios } from './bundle-builder/scenarios.js';
import { eksScenarios } from './bundle-builder/scenarios-eks.js';
import { probeScenarios } from './bundle-builder/scenarios-probe.js';
import { type PostRenderScenario, verdictScenarios } from './bundle-builder/scenarios-verdicts.js';

const root = path.resolve(import.meta.dirname, '..', 'examples');

const expected: Record<string, unknown> = {};
const all: PostRenderScenario[] = [...scenarios, ...verdictScenarios, ...probeScenarios, ...eksScenarios];
for (const scenario of all) {
  const files = renderBundle(scenario.build());
  scenario.postRender?.(files);
  await writeBundle(path.join(root, 'bundles', scenario.name), files);
  expected[scenario.name] = { summary: scenario.summary, ...scenario.expected };
  console.log(`${scenario.name}: ${files.size} files → ${scenario.expected.category}`);
}
await writeFile(path.join(root, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
