/** The fault table holds what it says: 60+ cases, each one's test exists, and docs/FAULTS.md is current. */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderFaultsDoc } from './render';
import { FAULT_TABLE } from './table';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the fault table', () => {
  it('has at least 60 cases, each id once', () => {
    expect(FAULT_TABLE.length).toBeGreaterThanOrEqual(60);
    expect(new Set(FAULT_TABLE.map((r) => r.id)).size).toBe(FAULT_TABLE.length);
  });

  it('names only tests that exist', () => {
    for (const r of FAULT_TABLE) {
      const file = resolve(ROOT, r.proof.file);
      expect(existsSync(file), `${r.id}: ${r.proof.file}`).toBe(true);
      const text = readFileSync(file, 'utf8');
      // Network rows are the table-driven test's titles (`${id}: ...`); the others a test's own title.
      const found = r.proof.file === 'test/faults/network.faults.test.ts' ? readFileSync(resolve(ROOT, 'test/faults/network-cases.ts'), 'utf8').includes(`id: '${r.id}'`) : text.includes(`'${r.proof.test}'`) || text.includes(`\`${r.proof.test}\``);
      expect(found, `${r.id}: no test "${r.proof.test}" in ${r.proof.file}`).toBe(true);
    }
  });

  it('docs/FAULTS.md is generated from it and current (npm run faults:doc)', () => {
    expect(readFileSync(resolve(ROOT, 'docs/FAULTS.md'), 'utf8')).toBe(renderFaultsDoc());
  });
});
