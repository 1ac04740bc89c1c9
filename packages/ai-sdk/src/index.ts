export { auditAiSdkTools } from './audit-tools.js';
export type { AuditAiSdkToolsOptions, AiSdkToolAuditOptions } from './audit-tools.js';
export { auditRefusals, isAuditRefusal, isAuditDenial, stopOnAuditDenial } from './refusals.js';
export type { AuditRefusal } from './refusals.js';
