/** The twin tier skips only with a reason it can print, never silently. */
import { describe, expect, it } from 'vitest';
import { motoUnavailableReason } from '../support/twin/moto-server.js';

describe('Function: motoUnavailableReason', () => {
  it('names a python that cannot be run', () => {
    expect(motoUnavailableReason('python3-that-is-not-installed')).toMatch(/python3-that-is-not-installed is not runnable/);
  });

  it('names a module python cannot import, and how to install moto', () => {
    expect(motoUnavailableReason('python3', 'moto_that_is_not_installed')).toMatch(/cannot import moto_that_is_not_installed: .*ModuleNotFoundError.*pip install 'moto\[server\]==5\.2\.1'/);
  });
});
