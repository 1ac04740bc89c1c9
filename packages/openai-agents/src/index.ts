export { auditOpenAIAgentsTool, isAuditedTool, APPROVAL_APPROVED_RULE, APPROVAL_REJECTED_RULE } from './audited-tool.js';
export type { AuditOpenAIAgentsToolOptions, AuditedToolOptions } from './options.js';
export type { ApprovalRoute } from '@tooltrail/core/adapter';
export { approveToolCall, rejectToolCall, APPROVAL_SOURCE, UNATTRIBUTED } from './approvals.js';
export type { ApprovalDecision, ApproveOptions, RejectOptions, ApprovalState } from './approvals.js';
export { auditedTool } from './deprecated.js';
export { defaultRefusalMessage, isRefusal, isDenial } from '@tooltrail/core/adapter';
export type { RefusedCall, RefusalMode } from '@tooltrail/core/adapter';
