export { auditedTool, isAuditedTool, APPROVAL_APPROVED_RULE, APPROVAL_REJECTED_RULE } from './audited-tool.js';
export type { AuditedToolOptions } from './audited-tool.js';
export { approveToolCall, rejectToolCall } from './approvals.js';
export type { ApprovalDecision, ApproveOptions, RejectOptions, ApprovalState } from './approvals.js';
export { defaultRefusalMessage, isRefusal } from './refusal.js';
export type { RefusedCall } from './refusal.js';
