// The input rules of keygate, each stated once. Every parser throws BAD_USER_INPUT naming the field.
import { z } from 'zod';
import { badInput } from './errors.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Gcore's API key name rule: lowercase DNS-like labels separated by dots. */
const KEY_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const rules = {
  projectSlug: z
    .string()
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and hyphens, not starting or ending with a hyphen'),
  projectName: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  apiKeyName: z
    .string()
    .min(4, 'must be at least 4 characters')
    .max(63, 'must be at most 63 characters')
    .regex(KEY_NAME, 'must be lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit'),
  description: z.string().max(300, 'must be at most 300 characters'),
  deploymentName: z
    .string()
    .min(1, 'must not be empty')
    .max(48, 'must be at most 48 characters')
    .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and hyphens, not starting or ending with a hyphen'),
  model: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  upstreamUrl: z
    .string()
    .max(2048, 'must be at most 2048 characters')
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.username && !u.password;
      } catch {
        return false;
      }
    }, 'must be an http or https URL without credentials'),
  /** a per-minute rate limit (docs/api.md, "Rate limits") */
  rateLimitValue: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000_000, 'must be at most 10,000,000'),
  tokenName: z
    .string()
    .min(1, 'must not be empty')
    .max(63, 'must be at most 63 characters')
    .regex(/^[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?$/, 'must be letters, digits, "-", "_" and "."'),
};

/** Validates one field, throwing BAD_USER_INPUT with the field's name and the first problem. */
export function check<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw badInput(field, `${field} ${result.error.issues[0]?.message ?? 'is invalid'}`);
  return result.data;
}

/** An expiry must lie in the future when it is given. */
export function checkExpiry(value: Date | null | undefined, field: string, now = new Date()): Date | null | undefined {
  if (value === null || value === undefined) return value;
  if (Number.isNaN(value.getTime())) throw badInput(field, `${field} is not a valid date-time`);
  if (value.getTime() <= now.getTime()) throw badInput(field, `${field} must be in the future`);
  return value;
}

/** A value the schema allows to be omitted but which may not be null. */
export function notNull<T>(value: T | null | undefined, field: string): T | undefined {
  if (value === null) throw badInput(field, `${field} must not be null`);
  return value;
}
