/**
 * In stdio mode the agent starts the gateway and so sets its environment: the OpenTelemetry and
 * tooltrail variables there (resource attributes, export headers, the masking key...) are the
 * agent's word about its own trail. They are taken out before the auditor reads them; the
 * config is the only source. The names (never the values) are returned to be warned about.
 */
export const AGENT_SET_PREFIXES = ['OTEL_', 'TOOLTRAIL_'] as const;

export function dropAgentEnvironment(env: NodeJS.ProcessEnv = process.env): string[] {
  const dropped = Object.keys(env).filter((k) => AGENT_SET_PREFIXES.some((p) => k.toUpperCase().startsWith(p)));
  for (const k of dropped) delete env[k];
  return dropped.sort();
}
