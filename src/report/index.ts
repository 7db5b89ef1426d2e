/** Renderers by `--format` name. */
import type { Diagnosis } from '../engine/diagnosis.js';
import { renderBlocks } from './blocks.js';
import { renderText } from './text.js';
import { renderSopYaml } from './yaml.js';

export const formats = ['text', 'json', 'yaml', 'blocks'] as const;
export type Format = (typeof formats)[number];

export function render(
  d: Diagnosis,
  format: Format,
  options: { color?: boolean; verbose?: boolean } = {},
): string {
  switch (format) {
    case 'text':
      return renderText(d, options);
    case 'json':
      return `${JSON.stringify(d, null, 2)}\n`;
    case 'yaml':
      return renderSopYaml(d);
    case 'blocks':
      return `${JSON.stringify(renderBlocks(d), null, 2)}\n`;
  }
}
