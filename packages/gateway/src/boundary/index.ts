export { visibleTools, deniedOutright, type VisibleToolsOptions, type OutrightDenial } from './visible-tools.js';
export { approvalHandlerFrom, type ApprovalConfig } from './approval-handler.js';
export { commandApprover, type CommandApproverOptions } from './command-approver.js';
export { httpApprover, type HttpApproverOptions } from './http-approver.js';
export { wireRequest, parseAnswer, type ApprovalWireRequest } from './approval-protocol.js';
