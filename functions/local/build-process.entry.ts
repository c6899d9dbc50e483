/**
 * Entry module of a build's child process under `buildfarm serve` (child-build/build-process.ts),
 * named `*.entry.ts` so scripts/bundle.mjs bundles it beside the CLI (farm-entry.ts starts it).
 */
import './child-build/build-process.js';
