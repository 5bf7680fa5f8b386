/** Truncate to at most `max` characters (code points), marking the cut with an ellipsis. Pure. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(max - 1, 0)).join('')}…`;
}
