/**
 * Which records are the gateway's. A record's attributes are its sender's word: an agent writing
 * to the same collector can add `tooltrail.run.claim` (or write a `tool_changed` record) and pass
 * for the gateway. The collector's per-line `writer` (the token the request authenticated with,
 * docs/collector.md) is the one thing a sender cannot choose, so `--gateway-writer` decides by it;
 * `--gateway-service` (Jaeger, Tempo: no writer there) and the attribute alone are said to be
 * unauthenticated in every output.
 */
import type { GatewaySide } from './model.js';

export interface GatewaySideOptions {
  /** Collector writer names (`tooltrail keygen --token --writer`) of the gateway's tokens. */
  gatewayWriters?: readonly string[];
  /** `service.name`s of the gateway (its config's `serviceName`). */
  gatewayServices?: readonly string[];
}

/** What a record is at the boundary: the gateway's, an agent's, or one that claims to be the gateway's and is not. */
export type Side = 'gateway' | 'agent' | 'not_gateway';

const NOT_VERIFIED = 'the join below is not verified';

export class SideRule {
  readonly side: GatewaySide;
  private readonly writers: ReadonlySet<string> | undefined;
  private readonly services: ReadonlySet<string> | undefined;

  constructor(o: GatewaySideOptions = {}) {
    this.writers = o.gatewayWriters !== undefined && o.gatewayWriters.length > 0 ? new Set(o.gatewayWriters) : undefined;
    this.services = o.gatewayServices !== undefined && o.gatewayServices.length > 0 ? new Set(o.gatewayServices) : undefined;
    if (this.writers !== undefined) {
      this.side = { authenticated: true, by: 'writer', names: [...this.writers] };
    } else if (this.services !== undefined) {
      const names = [...this.services];
      this.side = {
        authenticated: false,
        by: 'service',
        names,
        warning: `gateway side not authenticated: the gateway's records are told by service.name (${names.join(', ')}), which whoever sends a span sets; ${NOT_VERIFIED} (a collector with --tokens and --gateway-writer authenticates it)`,
      };
    } else {
      this.side = {
        authenticated: false,
        by: 'attribute',
        names: [],
        warning: `gateway side not authenticated: no --gateway-writer given, so the gateway's records are told by their tooltrail.run.claim attribute, which any process writing to this trail can set; ${NOT_VERIFIED}`,
      };
    }
  }

  /** The gateway wrote it, as far as the options can tell. */
  private isGateway(writer: string | undefined, service: string | undefined): boolean {
    if (this.writers !== undefined) {
      if (writer === undefined || !this.writers.has(writer)) return false;
      return this.services === undefined || (service !== undefined && this.services.has(service));
    }
    return service !== undefined && this.services !== undefined && this.services.has(service);
  }

  /**
   * A call record: `claimed` is what its attributes say (CallView.side). Undefined: not an MCP
   * call. A record of the gateway's writer is the gateway's whatever it says.
   */
  ofCall(claimed: 'gateway' | 'agent' | undefined, writer: string | undefined, service: string | undefined): Side | undefined {
    if (claimed === undefined) return undefined;
    if (this.side.by === 'attribute') return claimed;
    if (this.isGateway(writer, service)) return 'gateway';
    return claimed === 'gateway' ? 'not_gateway' : 'agent';
  }

  /** A `tool_changed` record: only the gateway writes them. */
  ofChange(writer: string | undefined, service: string | undefined): Side {
    if (this.side.by === 'attribute' || this.isGateway(writer, service)) return 'gateway';
    return 'not_gateway';
  }
}
