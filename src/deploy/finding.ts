/** One thing a check found, with where (a dotted path into the checked document). */
export interface Finding {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  path: string;
}
