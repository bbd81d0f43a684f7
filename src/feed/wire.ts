// What crosses Redis, checked on the way in: a change event, the fleet's floor or a usage batch that is not
// well formed is ignored (and logged by the caller), never applied.
import type { UsageBatch } from '../usage/usage-update.ts';
import { CHANGE_TYPES, type ChangeEvent } from './events.ts';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRevision = isCount;
const changeTypes: ReadonlySet<string> = new Set(CHANGE_TYPES);

/** A JSON object from the wire, or null when the text is not one. */
function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** A change event from the wire, or null when it is not one. */
export function parseChangeEvent(text: string): ChangeEvent | null {
  const value = parseObject(text);
  if (!value) return null;
  const { revision, projectId, type, actor, at, payload } = value;
  if (!isRevision(revision) || revision < 1) return null;
  if (typeof projectId !== 'string' || typeof type !== 'string' || !changeTypes.has(type)) return null;
  if (actor !== null && typeof actor !== 'string') return null;
  if (typeof at !== 'string' || !isObject(payload)) return null;
  return value as unknown as ChangeEvent;
}

/** The fleet's floor announcement (redis-leases.ts), or null when it is not one; an empty fleet is floor -1. */
export function parseFleetFloor(text: string): { floor: number; live: number } | null {
  const value = parseObject(text);
  if (!value) return null;
  const { floor, live } = value;
  if (typeof floor !== 'number' || !Number.isSafeInteger(floor) || floor < -1 || !isCount(live)) return null;
  return { floor, live };
}

const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 64;
const USAGE_COUNTS = ['requests', 'errors', 'rejected', 'rateLimited', 'promptTokens', 'completionTokens'] as const;

/** A proxy's usage batch from the wire, or null when it is not one. */
export function parseUsageBatch(text: string): UsageBatch | null {
  const value = parseObject(text);
  if (!value) return null;
  const { at, updates } = value;
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at)) || !Array.isArray(updates)) return null;
  for (const u of updates as unknown[]) {
    if (!isObject(u) || !isId(u.projectId) || !isId(u.deploymentId)) return null;
    if (u.apiKeyId !== null && !isId(u.apiKeyId)) return null;
    if (!USAGE_COUNTS.every((f) => isCount(u[f]))) return null;
  }
  return value as unknown as UsageBatch;
}
