// Run by policy-scale.test.ts in a process of its own (tsx), so time and peak RSS are the replay's alone.
import * as policyApi from '../../core/src/entries/policy.js';
import { loadCandidate } from '../src/review/replay/candidate.js';
import { replayCall } from '../src/review/replay/replay.js';
import { readReplayCalls } from '../src/review/replay/source.js';
import { ReplayTally } from '../src/review/replay/summary.js';

const [file, dir] = process.argv.slice(2) as [string, string];
const started = performance.now();
const candidate = loadCandidate(policyApi, file);
const tally = new ReplayTally();
for await (const call of readReplayCalls({ kind: 'dir', dir }, {})) tally.add(replayCall(candidate, call));
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS, summary: tally.summary, listed: tally.listed.length })}\n`);
