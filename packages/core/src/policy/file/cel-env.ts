/**
 * The CEL environment every `when` compiles in: the variables `tool`, `args`, `facts` and `run`
 * (typed where tooltrail controls the shape, `dyn` for the arguments), a few helpers that are
 * easy to get wrong by hand, and structural limits. Built once: building it is the costly part.
 */
import { Environment } from '@marcbachmann/cel-js';
import { Email, Facts, Fields, RunAgent, RunFacts, RunPrincipal, Url } from './fact-classes.js';

/** `host` is `domain` or one of its subdomains; `evilexample.com` is not in `example.com`. */
export function inDomain(host: string, domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.+$/, '');
  return host === d || (host.length > d.length && host.endsWith(d) && host.charCodeAt(host.length - d.length - 1) === 46);
}

/** `path` is `dir` or below it; `/srv/data2` is not under `/srv/data`. */
export function underPath(path: string, dir: string): boolean {
  const d = dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
  if (d === '/') return path.startsWith('/');
  return path === d || (path.startsWith(d) && path.charCodeAt(d.length) === 47);
}

let env: Environment | undefined;

export function celEnvironment(): Environment {
  if (env) return env;
  env = new Environment({
    enableOptionalTypes: true,
    homogeneousAggregateLiterals: false,
    limits: { maxAstNodes: 2_000, maxDepth: 48, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 16 },
  })
    .registerType('Email', { ctor: Email, fields: { address: 'string', local: 'string', domain: 'string' } })
    // port is dyn: a JS number, so `u.port == 8443` compares a double with an int literal,
    // which CEL allows at run time but not for a declared double.
    .registerType('Url', { ctor: Url, fields: { url: 'string', scheme: 'string', host: 'string', port: 'dyn', path: 'string', query: 'string' } })
    .registerType('Fields', { ctor: Fields, fields: { emails: 'list<Email>', urls: 'list<Url>', paths: 'list<string>' } })
    .registerType('Facts', {
      ctor: Facts,
      fields: { emails: 'list<Email>', urls: 'list<Url>', paths: 'list<string>', numbers: 'map<string, dyn>', fields: 'map<string, Fields>' },
    })
    .registerType('RunPrincipal', { ctor: RunPrincipal, fields: { id: 'string', type: 'string' } })
    .registerType('RunAgent', { ctor: RunAgent, fields: { name: 'string', id: 'string' } })
    .registerType('Run', {
      ctor: RunFacts,
      fields: { principal: 'RunPrincipal', agent: 'RunAgent', run_id: 'string', attributes: 'map<string, dyn>' },
    })
    .registerVariable('tool', 'string')
    .registerVariable('args', 'dyn')
    .registerVariable('facts', 'Facts')
    .registerVariable('run', 'Run')
    .registerFunction('inDomain(string, string): bool', inDomain)
    .registerFunction('inDomain(string, list<string>): bool', (host: string, domains: string[]) => domains.some((d) => inDomain(host, d)))
    .registerFunction('underPath(string, string): bool', underPath)
    .registerFunction('underPath(string, list<string>): bool', (path: string, dirs: string[]) => dirs.some((d) => underPath(path, d)));
  return env;
}

/** A CEL error's one-line message (the library appends a source excerpt over several lines). */
export function celMessage(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const summary = (err as { summary?: unknown }).summary;
    if (typeof summary === 'string') return summary;
  }
  const m = err instanceof Error ? err.message : String(err);
  const i = m.indexOf('\n');
  return i < 0 ? m : m.slice(0, i);
}
