/** docs/FAULTS.md as text, from the fault table. */
import { FAULT_TABLE, type FaultArea } from './table';

const AREAS: FaultArea[] = ['network', 'hostile input', 'media', 'provider', 'browser lifecycle', 'CLI'];
const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderFaultsDoc(): string {
  const lines = [
    '# The fault table',
    '',
    'Every way a download can go wrong that Vidmux is tested against: what it must do, and the test',
    'that proves it. Generated from `test/faults/table.ts` by `npm run faults:doc`; `npm test` fails',
    'when this file is not current, or a named test does not exist.',
    '',
    `${FAULT_TABLE.length} cases.`,
    '',
  ];
  for (const area of AREAS) {
    const rows = FAULT_TABLE.filter((r) => r.area === area);
    if (!rows.length) continue;
    lines.push(`## ${area[0]!.toUpperCase()}${area.slice(1)} (${rows.length})`, '', '| Case | Fault | Expected | Proof |', '|---|---|---|---|');
    for (const r of rows) lines.push(`| \`${r.id}\` | ${cell(r.fault)} | ${cell(r.expected)} | \`${r.proof.file}\`: ${cell(r.proof.test.replace(/: $/, ''))} |`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
