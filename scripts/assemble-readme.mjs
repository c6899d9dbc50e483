// README.md is assembled from docs/: the overview first, then each topic page, so the
// pages stay the one place each topic is written. Run: node scripts/assemble-readme.mjs
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const README_PAGES = [
  'overview.md',
  'local-farm.md',
  'pipeline-file.md',
  'planner.md',
  'runner.md',
  'state-machine.md',
  'webhook.md',
  'reports.md',
  'cost.md',
  'deploy.md',
  'security.md',
  'aws-account.md',
  'aws-twin.md',
  'performance.md',
  'hostile.md',
  'development.md',
];

const root = new URL('../', import.meta.url);

/**
 * A page whose top heading is `#` is demoted one level, so the README has one title.
 * Lines inside fenced code blocks (shell and YAML comments) are left alone.
 */
function demote(text) {
  if (!/^# /.test(text.split('\n')[0])) return text;
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) fenced = !fenced;
      return !fenced && /^#{1,5} /.test(line) ? `#${line}` : line;
    })
    .join('\n');
}

export function assemble() {
  const pages = README_PAGES.filter((page) => existsSync(new URL(`docs/${page}`, root)));
  const parts = pages.map((page, index) => {
    const text = readFileSync(new URL(`docs/${page}`, root), 'utf8').trim();
    return index === 0 ? text : demote(text);
  });
  return `<!-- Assembled from docs/ by scripts/assemble-readme.mjs: edit the pages there. -->\n${parts.join('\n\n')}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) writeFileSync(new URL('README.md', root), assemble());
