/**
 * The facts as classes. CEL's typed environment checks field names at load (a rule reading
 * `e.domian` is an error naming the rule, not a runtime failure that denies every call), and
 * it recognises a typed value by its constructor, so facts are built from these.
 */
import type { EmailFact, FieldFacts, PolicyFacts, UrlFact } from './types.js';

export class Email implements EmailFact {
  constructor(
    readonly address: string,
    readonly local: string,
    readonly domain: string,
  ) {}
}

export class Url implements UrlFact {
  constructor(
    readonly url: string,
    readonly scheme: string,
    readonly host: string,
    readonly port: number,
    readonly path: string,
    readonly query: string,
  ) {}
}

export class Fields implements FieldFacts {
  constructor(
    readonly emails: Email[],
    readonly urls: Url[],
    readonly paths: string[],
  ) {}
}

export class Facts implements PolicyFacts {
  constructor(
    readonly emails: Email[],
    readonly urls: Url[],
    readonly paths: string[],
    readonly numbers: Record<string, number>,
    readonly fields: Record<string, Fields>,
  ) {}
}

export class RunPrincipal {
  constructor(
    readonly id: string,
    readonly type: string,
  ) {}
}

export class RunAgent {
  constructor(
    readonly name: string,
    readonly id: string,
  ) {}
}

/** `run` in CEL. Absent parts are empty strings, so a condition on them never throws. */
export class RunFacts {
  constructor(
    readonly principal: RunPrincipal,
    readonly agent: RunAgent,
    readonly run_id: string,
    readonly attributes: Record<string, unknown>,
  ) {}
}
