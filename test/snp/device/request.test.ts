import { parseAppraisalPolicy } from '../../../src/maa/service/appraisal-policy';
import { checkReportRequest, isReportData, isVmpl } from '../../../src/snp';
import { parseVmpl } from '../../../src/cli/args';

describe('checkReportRequest', () => {
  test.each([
    ['63 bytes of REPORT_DATA', Buffer.alloc(63), undefined, 'reportData'],
    ['65 bytes of REPORT_DATA', Buffer.alloc(65), undefined, 'reportData'],
    ['a string for REPORT_DATA', 'x'.repeat(64), undefined, 'reportData'],
    ['a negative VMPL', Buffer.alloc(64), -1, 'vmpl'],
    ['VMPL 4', Buffer.alloc(64), 4, 'vmpl'],
    ['a fractional VMPL', Buffer.alloc(64), 1.5, 'vmpl'],
    ['a VMPL given as a string', Buffer.alloc(64), '1', 'vmpl'],
  ])('refuses %s with invalid_argument on its field', (_, reportData, vmpl, field) => {
    expect(() => checkReportRequest(reportData, vmpl)).toThrow(expect.objectContaining({ code: 'invalid_argument', details: expect.objectContaining({ field }) }));
  });

  test('accepts 64 bytes at any VMPL 0..3, or none', () => {
    for (const vmpl of [undefined, 0, 1, 2, 3]) expect(() => checkReportRequest(new Uint8Array(64), vmpl)).not.toThrow();
  });

  test('a floor refuses the more privileged VMPLs and keeps the rest', () => {
    expect(() => checkReportRequest(Buffer.alloc(64), 1, 2)).toThrow(expect.objectContaining({ details: expect.objectContaining({ field: 'vmpl', expected: '2..3' }) }));
    expect(() => checkReportRequest(Buffer.alloc(64), 2, 2)).not.toThrow();
  });
});

describe('isVmpl and isReportData, the one check behind every surface', () => {
  test.each([
    [0, true],
    [3, true],
    [-1, false],
    [4, false],
    [1.5, false],
    [Number.NaN, false],
    ['1', false],
    [undefined, false],
  ])('isVmpl(%p) is %p', (value, expected) => {
    expect(isVmpl(value)).toBe(expected);
  });

  test('isReportData takes exactly 64 bytes of any Uint8Array', () => {
    expect(isReportData(new Uint8Array(64))).toBe(true);
    expect(isReportData(Buffer.alloc(64))).toBe(true);
    expect(isReportData(Buffer.alloc(32))).toBe(false);
    expect(isReportData('x'.repeat(64))).toBe(false);
  });

  test('the CLI flag and the appraisal policy accept 0..3 and refuse 4, each in its own words', () => {
    expect(parseVmpl('3')).toBe(3);
    expect(() => parseVmpl('4')).toThrow(expect.objectContaining({ code: 'invalid_argument', details: { flag: 'vmpl' } }));
    expect(() => parseVmpl('-1')).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(parseAppraisalPolicy('{"vmpl":3}').vmpl).toBe(3);
    expect(() => parseAppraisalPolicy('{"vmpl":4}')).toThrow(/vmpl must be 0\.\.3/);
    expect(() => parseAppraisalPolicy('{"vmpl":"0"}')).toThrow(/vmpl must be 0\.\.3/);
  });
});
