import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReportData } from '../src/review/report/model.js';
import { demoTrail } from './demo-trail.js';
import { cleanup, runCli, tempDir } from './helpers.js';

afterEach(cleanup);

describe('tooltrail report on the quickstart demo trail', () => {
  it('shows the demo run: five calls ok, the refused send_email with its rule, principal, agent and trace id, in the table, the JSON and the HTML', async () => {
    const trail = await demoTrail();
    const html = path.join(await tempDir(), 'demo.html');
    const r = runCli(['report', '--trail', trail, '--since', '1d', '--json', '--html', html]);
    const { code } = await r.exited;
    expect(r.stderr()).toBe('');
    expect(code).toBe(0);
    const data = JSON.parse(r.stdout()) as ReportData;
    expect(data.totals).toMatchObject({ calls: 6, ok: 5, denied: 1, invalid: 0, error: 0 });
    expect(data.refused).toHaveLength(1);
    const denied = data.refused[0]!;
    expect(denied).toMatchObject({ outcome: 'denied', tool: 'send_email', rule: 'mail.internal-only' });
    expect(denied.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(denied.reason).toContain('outside');
    // The principal is masked (an identity value) but present; the agent name is a correlation id.
    expect(typeof denied.principal).toBe('string');
    expect(denied.agent).toBeTruthy();
    const page = await readFile(html, 'utf8');
    expect(page).toContain(denied.traceId);
    expect(page).toContain('mail.internal-only');
    expect(page).not.toMatch(/<script/i);
    const table = runCli(['report', '--trail', trail, '--since', '1d']);
    expect((await table.exited).code).toBe(0);
    expect(table.stdout()).toContain('mail.internal-only');
    expect(table.stdout()).toContain(denied.traceId);
  });
});
