export * from './product';
export * from './tcb';
export * from './policy';
export * from './report';
export * from './report-data';
export * from './cert-table';
export * from './hcl';
