/**
 * How Teams reads the strings of an Adaptive Card: `TextBlock.text` and a FactSet's fact titles and values are parsed
 * as (a subset of) Markdown — links, bold, italic, lists at a line start
 * (https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/cards-format); a `TextRun`'s text
 * (and a bare string inline of a RichTextBlock, its shorthand) is shown as typed ("Markdown is not supported",
 * https://learn.microsoft.com/adaptive-cards/authoring-cards/text-features). Everything else a card holds is not text
 * shown to a reader (types, styles, the button's URL) or a constant of ours (the button's title).
 */
export interface CardStrings {
  /** Strings Teams parses as Markdown, with their JSON paths. */
  markdown: Array<[path: string, text: string]>;
  /** TextRun texts, shown as typed. */
  plain: string[];
}

/** Walks the whole card (any depth, any element), so a Markdown field in a container or an action's card counts. */
export function cardStrings(card: unknown): CardStrings {
  const out: CardStrings = { markdown: [], plain: [] };
  const walk = (v: unknown, at: string, parent?: string): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        if (typeof x === 'string' && parent === 'RichTextBlock') out.plain.push(x);
        else walk(x, `${at}[${i}]`, parent);
      });
      return;
    }
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (o.type === 'TextBlock' && typeof o.text === 'string') out.markdown.push([`${at}.text`, o.text]);
    if (o.type === 'TextRun' && typeof o.text === 'string') out.plain.push(o.text);
    if (o.type === 'FactSet' && Array.isArray(o.facts)) {
      o.facts.forEach((f: Record<string, unknown>, i) => {
        for (const k of ['title', 'value']) if (typeof f?.[k] === 'string') out.markdown.push([`${at}.facts[${i}].${k}`, f[k] as string]);
      });
    }
    for (const [k, x] of Object.entries(o)) if (k !== 'facts' || o.type !== 'FactSet') walk(x, `${at}.${k}`, k === 'inlines' ? String(o.type) : undefined);
  };
  walk(card, '$');
  return out;
}
