/**
 * Truncate to at most `max` characters (code points), marking the cut with an ellipsis. Pure. For text that no
 * provider limits (workflow summaries and timeline details): every provider field with a documented limit is cut
 * with `truncateUnits` (src/providers/text-limits.ts) instead, in the unit the provider counts.
 */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(max - 1, 0)).join('')}…`;
}
