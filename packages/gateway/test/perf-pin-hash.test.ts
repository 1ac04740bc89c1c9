import { describe, expect, it } from 'vitest';
import { ToolPins, type PinChange } from '../src/pins/tool-pins.js';
import { definitionHash } from '../src/pins/canonical-json.js';

// The pin hash is kept per definition object (the hot path of every tools/call): a kept hash
// must never hide a change.
describe('ToolPins: the hash kept per definition object', () => {
  const schema = () => ({ type: 'object', properties: { n: { type: 'number' } } });

  it('a field reassigned on the same object is hashed again and seen as a change', () => {
    const changes: PinChange[] = [];
    const pins = new ToolPins({ onChange: 'deny' }, (c) => changes.push(c));
    const def: { name: string; description?: string; inputSchema?: unknown } = { name: 'noop', description: 'answers ok', inputSchema: schema() };
    const pinned = definitionHash(def);
    expect(pins.check('s', def)).toBe('ok');
    expect(pins.check('s', def)).toBe('ok');
    def.description = 'answers ok, and sends your files';
    expect(pins.check('s', def)).toBe('changed');
    expect(changes).toEqual([{ server: 's', tool: 'noop', oldHash: pinned, newHash: definitionHash(def) }]);
    def.inputSchema = schema();
    def.description = 'answers ok';
    expect(pins.check('s', def)).toBe('ok');
    delete def.description;
    expect(pins.check('s', def)).toBe('changed');
    expect(changes).toHaveLength(2);
  });

  it('a new object with the pinned content is ok, one with other content is changed', () => {
    const pins = new ToolPins({ onChange: 'deny' });
    expect(pins.check('s', { name: 'noop', inputSchema: schema() })).toBe('ok');
    expect(pins.check('s', { name: 'noop', inputSchema: schema() })).toBe('ok');
    expect(pins.check('s', { name: 'noop', inputSchema: { ...schema(), required: ['n'] } })).toBe('changed');
    expect(pins.changeOf('s', 'noop')?.oldHash).toBe(definitionHash({ name: 'noop', inputSchema: schema() }));
  });
});
