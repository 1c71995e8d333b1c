/** The shared scenarios (./scenarios/shared.ts) in Chromium, driven by Playwright. */
import { launchChromiumDriver } from './scenarios/chromium-driver';
import { sharedScenarios } from './scenarios/shared';

sharedScenarios('chromium', { launch: (fakes) => launchChromiumDriver(fakes), canWithdrawSiteAccess: false });
