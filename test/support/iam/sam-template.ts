/**
 * template.yaml as CloudFormation deploys it: translated by AWS's own SAM translator
 * (aws-sam-translator, the library `sam validate`, `sam deploy` and cfn-lint run), not by
 * our reading of SAM. Policy templates, the roles SAM creates, event sources and
 * subscriptions come out as the plain resources CloudFormation would create.
 *
 * The translation takes about a second; it is cached on disk per template content, so the
 * test files of one run (separate workers) translate once.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { yamlParse } from 'yaml-cfn';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCRIPT = join(import.meta.dirname, 'sam-translate.py');
export const TEMPLATE_PATH = join(ROOT, 'template.yaml');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CfnTemplate = { Parameters?: Record<string, any>; Conditions?: Record<string, any>; Resources: Record<string, any>; Outputs?: Record<string, any> };

/** The Python this machine would translate with, or why it cannot. */
export function samTranslatorUnavailable(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import samtranslator; print(samtranslator.__version__)'], { encoding: 'utf8' });
  if (probe.error) return `python3 is not installed (${probe.error.message})`;
  if (probe.status !== 0) return `python3 has no aws-sam-translator (pip install aws-sam-translator): ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}

/** The SAM template as CloudFormation reads it (the short-form tags expanded). */
export function samTemplate(path = TEMPLATE_PATH): CfnTemplate {
  return yamlParse(readFileSync(path, 'utf8'));
}

/**
 * `path` translated to plain CloudFormation JSON. Throws with the translator's message
 * when the template is invalid SAM (that is a test failure, not a skip).
 */
export function translatedTemplate(path = TEMPLATE_PATH): CfnTemplate {
  const text = readFileSync(path, 'utf8');
  const key = createHash('sha256').update(text).update(readFileSync(SCRIPT)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'buildfarm-sam-translate');
  const cached = join(dir, `${key}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8'));
  const run = spawnSync('python3', [SCRIPT], {
    input: JSON.stringify({ template: yamlParse(text) }),
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`SAM translation of ${path} failed:\n${run.stderr || run.error?.message}`);
  mkdirSync(dir, { recursive: true });
  // Written then renamed would be atomic; two workers writing the same content is harmless.
  writeFileSync(cached, run.stdout);
  return JSON.parse(run.stdout);
}
