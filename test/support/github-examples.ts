import { createRequire } from 'node:module';

/**
 * Real GitHub webhook payloads from `@octokit/webhooks-examples`: github.com
 * and each GitHub Enterprise Server version the package ships.
 */
export interface GitHubExample {
  /** e.g. `api.github.com push #4`, for test names. */
  label: string;
  event: string;
  payload: Record<string, unknown>;
}

const require = createRequire(import.meta.url);
const SOURCES = ['api.github.com', 'ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35'];

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

export function githubExamples(events: readonly string[]): GitHubExample[] {
  const result: GitHubExample[] = [];
  for (const source of SOURCES) {
    const groups = require(`@octokit/webhooks-examples/${source}/index.json`) as ExampleGroup[];
    for (const group of groups) {
      if (!events.includes(group.name)) continue;
      group.examples.forEach((payload, index) => {
        result.push({ label: `${source} ${group.name} #${index}`, event: group.name, payload: structuredClone(payload) });
      });
    }
  }
  return result;
}

/** One example, cloned so a test may change it. */
export function githubExample(event: string, predicate: (payload: Record<string, unknown>) => boolean): Record<string, unknown> {
  const found = githubExamples([event]).find((example) => predicate(example.payload));
  if (found === undefined) throw new Error(`no ${event} example matches`);
  return found.payload;
}
