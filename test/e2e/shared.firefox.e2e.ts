/**
 * The shared scenarios (./scenarios/shared.ts) in Firefox ESR (Debian's package), headless.
 * Skipped, saying so, where Firefox ESR is not installed; `.ci/run` installs it.
 */
import { existsSync } from 'node:fs';
import { describe } from 'vitest';
import { FIREFOX } from '../harness/firefox-browser';
import { launchFirefoxDriver } from './scenarios/firefox-driver';
import { sharedScenarios } from './scenarios/shared';

describe.skipIf(!existsSync(FIREFOX))(`Firefox ESR (${FIREFOX})`, () => {
  sharedScenarios('firefox', { launch: (fakes) => launchFirefoxDriver(fakes), canWithdrawSiteAccess: true });
});
