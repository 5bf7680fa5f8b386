/**
 * The metric names a PromQL expression reads, for checking deploy/ (dashboard panels, alert rules) against
 * what the service really exports. A small lexer, not a full parser: strings, label matchers, ranges and
 * subqueries, grouping label lists, offsets, numbers and Grafana variables are removed; what remains and is
 * neither a function call nor a keyword is a metric name. An expression that selects by `__name__` is refused
 * (its names could not be checked).
 */
const KEYWORDS = new Set([
  // aggregation operators (also written `sum by (x) (...)`, with the parenthesis not right after the name)
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
  // binary and set operators, modifiers
  'and', 'or', 'unless', 'atan2', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset',
  'inf', 'nan',
]);

export function metricNames(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  if (/__name__/.test(s)) throw new Error(`selects by __name__, which cannot be checked: ${expr}`);
  s = s
    .replace(/\{[^{}]*\}/g, ' ') // label matchers (strings already blanked, so no braces inside)
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)/gi, ' ') // grouping label lists
    .replace(/\boffset\s+-?[0-9a-z$_]+/gi, ' ')
    .replace(/@\s*(?:start|end)\s*\(\s*\)|@\s*[0-9.]+/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ') // Grafana variables
    .replace(/(?<![A-Za-z0-9_:.])(?:0x[0-9a-f]+|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(?![A-Za-z0-9_:])/gi, ' '); // numbers
  const names = new Set<string>();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const rest = s.slice(m.index + m[0].length);
    if (/^\s*\(/.test(rest)) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** Sample names in a Prometheus text exposition (the names of lines that carry a value). */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    // Comments (# HELP, # TYPE) start with '#'; a sample line starts with its name, then labels or the value.
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}
