import { describe, expect, it } from 'vitest';
import { newRunId, shortId } from '../../src/core/short-id.js';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('shortId', () => {
  it('shows commits and container ids at 12 characters, as docker ps does', () => {
    expect(shortId(COMMIT)).toBe('0123456789ab');
    expect(shortId('4f2a')).toBe('4f2a');
  });
});

describe('newRunId', () => {
  it('sorts by start time', () => {
    const early = newRunId(new Date('2026-01-01T00:00:00Z'));
    const late = newRunId(new Date('2026-01-01T00:00:01Z'));
    expect(early < late).toBe(true);
  });
});
