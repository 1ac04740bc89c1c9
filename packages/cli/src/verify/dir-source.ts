import path from 'node:path';
import { openTrail } from '../trail/reader.js';
import { ProblemLog } from './problems.js';
import type { OpenedSource, OpenOptions } from './source-types.js';
import type { VerifyEntry } from './verifier.js';

/**
 * The collector's folder, through the trail reader (`openTrail`, docs/collector.md): v1 and v2
 * lines, streamed in bounded memory, with the collector's chain and seals checked on the way
 * and the writer each request authenticated as.
 */
export function dirSource(dir: string, o: OpenOptions): OpenedSource {
  const problems = new ProblemLog();
  const trail = openTrail(dir, {
    ...(o.sealKeys && o.sealKeys.length > 0 ? { sealKeys: o.sealKeys } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
  });
  let done = false;
  async function* entries(): AsyncGenerator<VerifyEntry> {
    try {
      for await (const e of trail) yield { span: e.record, where: `${path.basename(e.file)}:${e.line}`, writer: e.writer };
    } catch (err) {
      // An unreadable folder or file (permissions, I/O): a finding, not a crash.
      problems.add(`${dir}: ${(err as Error).message}`);
    }
    for (const p of trail.problems) problems.add(`${path.basename(p.file)}:${p.line}: ${p.kind}: ${p.message}`);
    problems.count += trail.problemCount - trail.problems.length;
    done = true;
  }
  return {
    get description() {
      return `${trail.files.length} file(s) in ${dir}`;
    },
    entries: entries(),
    problems: problems.list,
    problemCount: () => problems.count,
    seals: () => (done ? trail.seals : undefined),
    notes: () => [],
  };
}
