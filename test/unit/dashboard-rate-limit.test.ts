// The dashboard's rate limit rules (src/dashboard/lib/rate-limit.ts): the keys list's label, the
// dialogs' fields as RateLimitInput, and what the edit dialog sends (omitted, null or the object).
import { describe, expect, it } from 'vitest';
import { limitLabel, rateLimitInput, rateLimitUpdate } from '../../src/dashboard/lib/rate-limit.ts';

describe('dashboard rate limits', () => {
  it('labels limits briefly, "—" for none', () => {
    expect(limitLabel({ requestsPerMinute: 600, tokensPerMinute: 200_000 })).toBe('600 rpm · 200k tpm');
    expect(limitLabel({ requestsPerMinute: null, tokensPerMinute: 1_500 })).toBe('1.5k tpm');
    expect(limitLabel({ requestsPerMinute: 10_000_000, tokensPerMinute: null })).toBe('10M rpm');
    expect(limitLabel(null)).toBe('—');
  });

  it('reads the fields: empty is no limit, both empty is null, words are a field error', () => {
    expect(rateLimitInput('', ' ')).toBeNull();
    expect(rateLimitInput('5', '')).toEqual({ requestsPerMinute: 5, tokensPerMinute: null });
    expect(rateLimitInput('', '200,000')).toEqual({ requestsPerMinute: null, tokensPerMinute: 200_000 });
    expect(() => rateLimitInput('lots', '')).toThrow(expect.objectContaining({ field: 'rateLimit.requestsPerMinute', code: 'BAD_USER_INPUT' }));
    expect(() => rateLimitInput('', '99999999999')).toThrow(expect.objectContaining({ field: 'rateLimit.tokensPerMinute' }));
  });

  it('sends only a change: null when both are cleared', () => {
    const before = { requestsPerMinute: 5, tokensPerMinute: null };
    expect(rateLimitUpdate(before, { requestsPerMinute: 5, tokensPerMinute: null })).toBeUndefined();
    expect(rateLimitUpdate(before, null)).toBeNull();
    expect(rateLimitUpdate(before, { requestsPerMinute: 6, tokensPerMinute: null })).toEqual({ requestsPerMinute: 6, tokensPerMinute: null });
    expect(rateLimitUpdate(null, null)).toBeUndefined();
  });
});
