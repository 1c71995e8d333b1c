/** Writes docs/FAULTS.md from the fault table (test/faults/table.ts): `npm run faults:doc`. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderFaultsDoc } from '../test/faults/render';

writeFileSync(resolve(import.meta.dirname, '../docs/FAULTS.md'), renderFaultsDoc());
