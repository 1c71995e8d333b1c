/**
 * The verbatim copies of the vendor docs (seeds/*.txt) that the contract tests read are still what
 * the shared folder says. The shared folder sits next to the repo on a developer's machine
 * (../shared); a fresh clone (CI) has none, and then only the copies' own form is checked.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seedCopies, SHARED_DIR, sharedSource } from './seeds';

const copies = seedCopies();

describe('verbatim seed copies', () => {
  it('each names its source and holds excerpts', () => {
    expect(copies.map((c) => c.name)).toEqual(['renderio-000.txt', 'renderio-providers-md.txt', 'tornado-002.txt', 'vidio-003.txt', 'vidpickr-001.txt']);
    for (const c of copies) {
      expect(c.source, c.name).toMatch(/^(seeds\/\d{3}_[0-9a-f]{16}\.txt|providers\.md)$/);
      expect(c.excerpts.size, c.name).toBeGreaterThan(0);
      for (const [k, text] of c.excerpts) expect(text.trim(), `${c.name} ${k}`).not.toBe('');
    }
  });

  describe.runIf(existsSync(SHARED_DIR))(`still match ${SHARED_DIR}`, () => {
    for (const c of copies) {
      it(`${c.name}: every excerpt appears byte for byte in ${c.source}`, () => {
        const source = sharedSource(c);
        expect(source, `${c.source} is missing from ${SHARED_DIR}`).not.toBeNull();
        for (const [k, text] of c.excerpts) expect(source!.includes(text), `${c.name}: excerpt "${k}" is no longer in ${c.source}`).toBe(true);
      });
    }
  });
});
