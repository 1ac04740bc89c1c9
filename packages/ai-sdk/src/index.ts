export { auditAiSdkTools } from './audit-tools.js';
export type { AuditAiSdkToolsOptions, AiSdkToolAuditOptions } from './audit-tools.js';
export type { ApprovalRoute } from '@tooltrail/core/adapter';
export { auditRefusals, stopOnAuditDenial, isAuditRefusal, isAuditDenial } from './refusals.js';
export type { AuditRefusal } from './refusals.js';
export { recordRefusedToolCalls, recordDeniedApprovals, recordApprovalResponses, AI_SDK_PARSER, AI_SDK_APPROVAL } from './refused-calls.js';
export { AI_SDK_APPROVAL_RESPONSE } from './approvals.js';
export { isRefusal, isDenial, defaultRefusalMessage } from '@tooltrail/core/adapter';
export type { RefusedCall, RefusalMode } from '@tooltrail/core/adapter';
