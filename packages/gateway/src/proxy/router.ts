import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, JSONRPCRequest, Tool, Notification, Request, Result, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { invalidParams, methodNotFound, PassThroughResult, relayed, exposedName, splitName, toolResultProblem, RelayedError } from './relay.js';
import type { GatewayContext } from './context.js';
import { visibleTools, type ToolDefinitionLike } from './parts.js';
import type { Upstream } from './upstream.js';
import { withoutTooltrailMeta } from '../audit/call-meta.js';

export type AgentExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;
/** Called with each agent request about to be sent to a server (router.request). */
export type BeforeForward = (up: Upstream, request: Request) => Promise<void>;

type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
const LISTS: Record<string, { kind: ListKind; capability: 'tools' | 'prompts' | 'resources' }> = {
  'tools/list': { kind: 'tools', capability: 'tools' },
  'prompts/list': { kind: 'prompts', capability: 'prompts' },
  'resources/list': { kind: 'resources', capability: 'resources' },
  'resources/templates/list': { kind: 'resourceTemplates', capability: 'resources' },
};
/** Bounds of one server's list (every page): past them the list is refused, never cut short. */
export const MAX_LIST_PAGES = 100;
export const MAX_LIST_ITEMS = 10_000;

type Item = Record<string, unknown>;

/**
 * A signal per page of one list, each aborted with the agent's request. The SDK adds an abort
 * listener to a request's signal and never takes it off: the agent's one signal for every page
 * would collect one per page (MaxListenersExceededWarning past 10). One listener on it, for the list.
 */
function pageSignals(agent: AbortSignal): { next(): AbortSignal; done(): void } {
  let current: AbortController | undefined;
  const cancel = (): void => current?.abort(agent.reason);
  agent.addEventListener('abort', cancel, { once: true });
  return {
    next: () => {
      current = new AbortController();
      if (agent.aborted) current.abort(agent.reason);
      return current.signal;
    },
    done: () => agent.removeEventListener('abort', cancel),
  };
}

/**
 * Where each agent request goes: lists are merged from every upstream (names prefixed with the
 * server's name when there is more than one), named requests go to the server that owns the
 * name, anything else goes to the only server, or is answered "method not found".
 */
export class Router {
  readonly prefixed: boolean;
  private readonly names: string[];
  /** Resource URIs by the upstream that listed them. */
  private readonly uris = new Map<string, Upstream>();
  /** The last definition each upstream listed for a tool, by exposed name. */
  readonly tools = new Map<string, ToolDefinitionLike>();

  constructor(
    private readonly ctx: GatewayContext,
    readonly upstreams: readonly Upstream[],
  ) {
    this.prefixed = upstreams.length > 1;
    this.names = upstreams.map((u) => u.name);
    // A server that says its tools changed: this connection's cached definitions of them are
    // dropped, so its next call re-reads them (the notification still goes on to the agent).
    for (const up of upstreams) {
      const relay = up.client.fallbackNotificationHandler;
      up.client.fallbackNotificationHandler = async (notification) => {
        if (notification.method === 'notifications/tools/list_changed') {
          for (const exposed of [...this.tools.keys()]) if (this.target(exposed)?.up === up) this.tools.delete(exposed);
        }
        await relay?.(notification);
      };
    }
  }

  upstream(name: string): Upstream | undefined {
    return this.upstreams.find((u) => u.name === name);
  }

  /** The upstream and its own name for an exposed tool or prompt name. */
  target(exposed: string): { up: Upstream; name: string } | undefined {
    const t = splitName(exposed, this.names, this.prefixed);
    const up = t === undefined ? undefined : this.upstream(t.server);
    return up === undefined ? undefined : { up, name: t!.name };
  }

  /**
   * The definition the server lists for an exposed tool name: the one of the last tools/list,
   * else the server is asked now (a call made without listing first is still checked against its pin).
   */
  async definition(exposed: string, extra: AgentExtra): Promise<ToolDefinitionLike | undefined> {
    const known = this.tools.get(exposed);
    if (known !== undefined) return known;
    const t = this.target(exposed);
    if (t === undefined || !t.up.alive || t.up.capabilities.tools === undefined) return undefined;
    const items = await this.listAll(t.up, 'tools/list', 'tools', extra);
    this.ctx.pins.listed(t.up.name, items as unknown as ToolDefinitionLike[]);
    for (const item of items) this.tools.set(exposedName(t.up.name, String(item.name), this.prefixed), item as unknown as ToolDefinitionLike);
    return this.tools.get(exposed);
  }

  /** Sends one request to one upstream, relaying progress to the agent and its cancellation to the server. */
  async forward(up: Upstream, request: Request, extra: AgentExtra, signal: AbortSignal = extra.signal): Promise<Result> {
    if (!up.alive) throw relayed(new Error(`upstream server "${up.name}" is not connected`));
    const token = extra._meta?.progressToken;
    // Progress goes out in order, and all of it before the answer: after it the agent drops it.
    let progress: Promise<void> = Promise.resolve();
    try {
      const result = await up.client.request(request as never, PassThroughResult, {
        signal,
        timeout: up.config.requestTimeoutMs ?? 60_000,
        ...(token !== undefined
          ? {
              resetTimeoutOnProgress: true,
              onprogress: (p: { progress: number; total?: number; message?: string }) => {
                // Counted toward the server's undelivered notifications: a progress flood pauses it too.
                progress = up.toAgent(progress.then(() => extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken: token } }))).catch(() => undefined);
              },
            }
          : {}),
      });
      await progress;
      return result;
    } catch (err) {
      // The SDK rejects with the abort's reason (a string from notifications/cancelled, or a DOMException).
      if (signal.aborted) throw new RelayedError(ErrorCode.RequestTimeout, typeof signal.reason === 'string' && signal.reason !== '' ? signal.reason : 'the request was cancelled');
      throw relayed(err, up.name);
    }
  }

  /** A result the agent's SDK would reject is an error, recorded as one, not passed on as a success. */
  async forwardTool(up: Upstream, name: string, params: Record<string, unknown>, extra: AgentExtra, signal: AbortSignal = extra.signal): Promise<CallToolResult> {
    const result = await this.forward(up, { method: 'tools/call', params: { ...params, name } }, extra, signal);
    const problem = toolResultProblem(result);
    if (problem !== undefined) throw new RelayedError(ErrorCode.InternalError, `server "${up.name}" answered tools/call with an invalid result: ${problem}`);
    return result as CallToolResult;
  }

  private async listAll(up: Upstream, method: string, kind: ListKind, extra: AgentExtra): Promise<Item[]> {
    const out: Item[] = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    const refuse = (why: string) => {
      const message = `server "${up.name}": ${method} refused: ${why}; a list cut short would hide what the server offers`;
      this.ctx.warn(`tooltrail gateway: ${message}`);
      return new RelayedError(ErrorCode.InternalError, message);
    };
    const named = kind === 'tools' || kind === 'prompts';
    const names = new Set<string>();
    const signals = pageSignals(extra.signal);
    try {
      for (let page = 1; ; page++) {
        const result = (await this.forward(up, { method, params: cursor !== undefined ? { cursor } : {} }, { ...extra, signal: signals.next() })) as Record<string, unknown>;
        const next = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
        // A cursor seen before would loop forever: the list has no end to reach (said before what the page holds).
        if (next !== undefined && seen.has(next)) throw refuse(`nextCursor ${JSON.stringify(next.slice(0, 100))} repeats an earlier page's`);
        const items = result[kind];
        if (items !== undefined && !Array.isArray(items)) throw refuse(`"${kind}" is not an array`);
        if (Array.isArray(items)) {
          if (out.length + items.length > MAX_LIST_ITEMS) throw refuse(`more than ${MAX_LIST_ITEMS} items (the gateway's limit)`);
          for (const item of items as unknown[]) {
            if (typeof item !== 'object' || item === null || Array.isArray(item)) throw refuse(`an item of "${kind}" is not an object`);
            // Two definitions under one name: which one the agent reads and which one is pinned
            // would be the server's choice (one could be shown, the other checked).
            if (named) {
              const name = (item as Item).name;
              if (typeof name !== 'string' || name === '') throw refuse(`an item of "${kind}" has no name`);
              if (names.has(name)) throw refuse(`two items of "${kind}" are named ${JSON.stringify(name.slice(0, 100))}`);
              names.add(name);
            }
            out.push(item as Item);
          }
        }
        cursor = next;
        if (cursor === undefined) return out;
        seen.add(cursor);
        if (page >= MAX_LIST_PAGES) throw refuse(`more than ${MAX_LIST_PAGES} pages (the gateway's limit)`);
      }
    } finally {
      signals.done();
    }
  }

  private async list(method: string, extra: AgentExtra): Promise<Result> {
    const { kind, capability } = LISTS[method]!;
    const ups = this.upstreams.filter((u) => u.alive && u.capabilities[capability] !== undefined);
    const lists = await Promise.all(ups.map((u) => this.listAll(u, method, kind, extra)));
    const out: Item[] = [];
    ups.forEach((up, i) => {
      let items = lists[i]!;
      if (kind === 'tools') {
        // The latest listing, of any connection, is what every connection's calls are checked against.
        this.ctx.pins.listed(up.name, items as unknown as ToolDefinitionLike[]);
        for (const t of items) this.tools.set(exposedName(up.name, String(t.name), this.prefixed), t as unknown as ToolDefinitionLike);
        // The policy sees a tool under the name its calls are recorded (and decided) under.
        items = visibleTools(items as unknown as Tool[], up.name, this.ctx.policy, this.ctx.pins, {
          policyName: (tool, server) => exposedName(server, tool.name, this.prefixed),
        }) as unknown as Item[];
      }
      if (kind === 'resources') for (const r of items) if (typeof r.uri === 'string') this.uris.set(r.uri, up);
      if (kind === 'tools' || kind === 'prompts') items = items.map((t) => ({ ...t, name: exposedName(up.name, String(t.name), this.prefixed) }));
      out.push(...items);
    });
    return { [kind]: out };
  }

  /** The upstream serving a resource URI: the one that listed it, else the only one with resources. */
  private resourceOwner(uri: unknown): Upstream {
    const listed = typeof uri === 'string' ? this.uris.get(uri) : undefined;
    if (listed !== undefined) return listed;
    const withResources = this.upstreams.filter((u) => u.capabilities.resources !== undefined);
    if (withResources.length === 1) return withResources[0]!;
    throw invalidParams(`no server is known to serve resource ${JSON.stringify(uri)}: list resources first`);
  }

  /**
   * Every agent request but `tools/call`, `initialize` and `ping` (the SDK answers those two).
   * `before` runs for each request about to go to a server, once it is routed and before it is
   * sent (the session records it there); what it throws answers the agent, and nothing is sent.
   * Lists are not passed to it.
   */
  async request(request: JSONRPCRequest, extra: AgentExtra, before?: BeforeForward): Promise<Result> {
    const { method } = request;
    const params = withoutTooltrailMeta((request.params ?? {}) as Record<string, unknown>);
    if (Object.hasOwn(LISTS, method)) return this.list(method, extra);
    const send = async (up: Upstream, out: Request): Promise<Result> => {
      if (!up.alive) throw relayed(new Error(`upstream server "${up.name}" is not connected`));
      await before?.(up, out);
      return this.forward(up, out, extra);
    };
    switch (method) {
      case 'prompts/get': {
        const t = this.target(String(params.name));
        if (t === undefined) throw invalidParams(`Unknown prompt: ${String(params.name)}`);
        return send(t.up, { method, params: { ...params, name: t.name } });
      }
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        return send(this.resourceOwner(params.uri), { method, params });
      case 'completion/complete': {
        const ref = (params.ref ?? {}) as Record<string, unknown>;
        if (ref.type === 'ref/prompt') {
          const t = this.target(String(ref.name));
          if (t === undefined) throw invalidParams(`Unknown prompt: ${String(ref.name)}`);
          return send(t.up, { method, params: { ...params, ref: { ...ref, name: t.name } } });
        }
        return send(this.resourceOwner(ref.uri), { method, params });
      }
      case 'logging/setLevel': {
        const ups = this.upstreams.filter((u) => u.alive && u.capabilities.logging !== undefined);
        await Promise.all(ups.map((u) => send(u, { method, params })));
        return {};
      }
      default:
        if (this.upstreams.length === 1) return send(this.upstreams[0]!, { method, params });
        throw methodNotFound(method);
    }
  }

  /** Agent notifications (roots changed, ...) go to every upstream. */
  async notify(notification: Notification): Promise<void> {
    await Promise.all(this.upstreams.filter((u) => u.alive).map((u) => u.client.notification(notification as never).catch(() => undefined)));
  }
}
