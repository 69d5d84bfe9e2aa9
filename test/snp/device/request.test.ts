import { checkReportRequest } from '../../../src/snp/device/request';

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
