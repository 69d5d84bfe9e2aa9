import { createHash } from 'node:crypto';
import { reportDataFor } from '../../../src/snp';
import { fixture } from '../vectors';
import { parseHclReport, parseReport } from '../../../src/snp/abi';

test('reportDataFor is SHA-256 of the runtime data, then 32 zero bytes', () => {
  const data = Buffer.from('x');
  expect(reportDataFor(data)).toEqual(Buffer.concat([createHash('sha256').update(data).digest(), Buffer.alloc(32)]));
});

test("a genuine Azure report's REPORT_DATA is reportDataFor of its runtime data", () => {
  const hcl = parseHclReport(fixture('snp', 'genoa-v3-azure-hcl', 'hcl-report.bin'));
  expect(reportDataFor(hcl.runtimeData)).toEqual(parseReport(hcl.report).reportData);
});
