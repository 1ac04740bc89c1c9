#!/usr/bin/env node
import { CHECK_USAGE, check } from './commands/check.js';
import { COLLECT_USAGE, collect } from './commands/collect.js';
import { GATEWAY_USAGE, gateway } from './commands/gateway.js';
import { UsageError, type Io } from './commands/io.js';
import { KEYGEN_USAGE, keygen } from './commands/keygen.js';
import { POLICY_USAGE, policy } from './commands/policy.js';
import { REPORT_USAGE, report } from './commands/report.js';
import { VERIFY_USAGE, verify } from './commands/verify.js';

declare const __TOOLTRAIL_VERSION__: string | undefined;
const VERSION: string = typeof __TOOLTRAIL_VERSION__ === 'string' ? __TOOLTRAIL_VERSION__ : '0.0.0-dev';

const USAGE = `Usage: tooltrail <command> [options]

Commands:
  collect     run a local OTLP/HTTP receiver that authenticates writers, appends every span to
              fsynced JSONL files and seals them with its own key
  keygen      write an Ed25519 key pair (checkpoint signing or collector sealing), or a writer token
  verify      check the trail's chains, signatures and seals (files, Jaeger or Tempo); it says
              "complete and unedited" only when trusted keys verified it
  report      the weekly review: denied and invalid calls, first use of a tool, error and retry
              hot spots, as a table, --json or a self-contained --html page
  check       the seeds' self-test as a canary: is a denied out-of-scope call recorded, attributed
              to its run and principal, with its planted fake secrets masked
  policy      policy test: replay a trail's calls against a candidate policy file (what it
              decides differently, what it cannot decide from masked values); policy check
              validates a file
  gateway     an MCP gateway that records every tools/call outside the agent's process
              (needs @tooltrail/gateway)

Options:
  -h, --help      show this help (tooltrail <command> --help for a command's options)
  -v, --version   print the version

Exit codes: 0 success, 1 failure (verify: findings), 2 bad command line,
3 (verify) no findings, but not authenticated: no trusted key, or nothing signed to check.
`;

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Exit codes: 0 ok, 1 runtime failure, 2 usage error. */
async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.out(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const commands: Record<string, { run: (args: string[], io: Io) => Promise<number>; usage: string }> = {
    collect: { run: collect, usage: COLLECT_USAGE },
    keygen: { run: keygen, usage: KEYGEN_USAGE },
    verify: { run: verify, usage: VERIFY_USAGE },
    check: { run: check, usage: CHECK_USAGE },
    report: { run: report, usage: REPORT_USAGE },
    policy: { run: policy, usage: POLICY_USAGE },
    gateway: { run: gateway, usage: GATEWAY_USAGE },
  };
  const cmd = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!cmd) {
    io.err(`tooltrail: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    // parseArgs reports bad flags as TypeErrors with an ERR_PARSE_ARGS_* code.
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof UsageError || code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`tooltrail ${command}: ${(err as Error).message}\n\n${cmd.usage}`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then(
  // Exit once stdout is flushed: on a pipe it is asynchronous, and a large --json answer would be cut.
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`tooltrail: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
