/**
 * Vitest globalSetup: bundles the CLI into dist/cli/ before any test runs, so tests that start
 * bin/buildfarm.mjs as a process run JavaScript built from the sources under test, never an older
 * bundle (and they set BUILDFARM_CLI=bundle where they mean to test the bundle itself).
 */
// @ts-expect-error: a plain .mjs script without types.
import { bundleCli } from '../../scripts/bundle.mjs';

export default async function setup(): Promise<void> {
  await bundleCli();
}
