/**
 * tools/list at the boundary: a tool the policy file denies outright, or whose definition
 * changed under `pins.onChange: hide`, is left out of the list the agent sees. A hidden tool is
 * still denied when called by name (the policy, or the pin, decides the call); hiding only keeps
 * the model from planning with it.
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { FilePolicy } from '@tooltrail/core/policy';
import type { ToolPins } from '../pins/tool-pins.js';

/** How a tool's name reaches the policy: the name the auditor records it under (part A's choice). */
export interface VisibleToolsOptions {
  /** Default: the upstream tool's own name. */
  policyName?: (tool: Tool, server: string) => string;
}

export interface OutrightDenial {
  /** The deciding rule's id, or undefined when the file's `default: deny` decides every call. */
  readonly rule: string | undefined;
  readonly reason: string | undefined;
}

/**
 * Whether every call to `tool` is denied by the policy, whatever its arguments or run: walking
 * the rules whose globs match, in file order, as the evaluator does, a `deny` without `when`
 * before any `allow` or `ask` (with or without `when`: a conditional allow may apply), or no
 * allow or ask at all under `default: deny`. Conditional denies and rewrites do not end the
 * evaluation, so they are passed over.
 */
export function deniedOutright(policy: FilePolicy, tool: string): OutrightDenial | undefined {
  const compiled = policy.policy;
  for (const rule of compiled.rules) {
    if (!rule.matches(tool)) continue;
    if (rule.decide === 'allow' || rule.decide === 'ask') return undefined;
    if (rule.decide === 'deny' && rule.when === undefined && rule.condition === undefined) return { rule: rule.id, reason: rule.reason };
  }
  return compiled.default === 'deny' ? { rule: undefined, reason: `policy ${compiled.id} denies by default` } : undefined;
}

/** The tools of `server` the agent may see. Every tool's pin is checked (first-seen tools are pinned here). */
export function visibleTools(tools: Tool[], server: string, policy: FilePolicy | undefined, pins: ToolPins, options: VisibleToolsOptions = {}): Tool[] {
  const out: Tool[] = [];
  for (const tool of tools) {
    // The pin is checked first and for every tool, hidden or not, so a change is seen (and
    // reported) the moment the server lists it.
    const pin = pins.check(server, tool);
    if (pin === 'changed' && pins.onChange === 'hide') continue;
    if (policy !== undefined && deniedOutright(policy, options.policyName?.(tool, server) ?? tool.name) !== undefined) continue;
    out.push(tool);
  }
  return out;
}
