import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('README', () => {
  const readme = readFileSync('README.md', 'utf8');

  it('opens with the two commands a newcomer needs', () => {
    const firstBlock = readme.split('```')[1] ?? '';
    expect(firstBlock).toContain('npm start');
    expect(firstBlock).toContain('npm test');
  });

  it('shows the current booking diagram (regenerate docs/flows/booking.mmd, then paste it here)', () => {
    expect(readme).toContain(readFileSync('docs/flows/booking.mmd', 'utf8').trimEnd());
  });

  it('links only to docs that exist', () => {
    for (const [, path] of readme.matchAll(/\]\((docs\/[^)#]+)\)/g)) {
      expect(() => readFileSync(path!), path).not.toThrow();
    }
  });
});
