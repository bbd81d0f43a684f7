// The limits of a usage ranking (docs/api.md, "Usage"): Project.usageByKey and usageByDeployment
// return at most MAX_USAGE_RANKING rows and narrow to at most MAX_USAGE_RANKING key ids.
import { badInput } from './errors.ts';

export const MAX_USAGE_RANKING = 100;

/** `first` checked: BAD_USER_INPUT (field "first") outside 1–MAX_USAGE_RANKING. */
export function rankingSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_USAGE_RANKING) throw badInput('first', `first must be between 1 and ${MAX_USAGE_RANKING}`);
  return first;
}

/** The narrowing ids checked: BAD_USER_INPUT (field `field`) beyond MAX_USAGE_RANKING. */
export function rankingIds<T>(ids: readonly T[], field: string): readonly T[] {
  if (ids.length > MAX_USAGE_RANKING) throw badInput(field, `${field} holds ${ids.length} ids; at most ${MAX_USAGE_RANKING}`);
  return ids;
}
