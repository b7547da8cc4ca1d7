// The README's map of src/ names every folder there is, and no folder that is gone.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe("the README's map of src/", () => {
  it('lists exactly the folders of src/', () => {
    const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('`src/` is laid out');
    expect(start).toBeGreaterThan(-1);
    const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| folder |', start)));
    const mapped = [...table.matchAll(/^\| `([a-z-]+)\/` \|/gm)].map((m) => m[1]).sort();
    const folders = readdirSync(resolve(ROOT, 'src'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(mapped).toEqual(folders);
  });
});
