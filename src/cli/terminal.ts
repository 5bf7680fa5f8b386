/**
 * What the CLI writes reaches an operator's terminal, and much of it is not ours: incident titles and actors from
 * `/v1` callers, link errors and references from providers, actors of inbound Jira / ServiceNow deliveries. A raw
 * control character there is a command to the terminal (OSC 52 writes the clipboard, OSC 8 fakes a link, CSI clears
 * the screen or moves the cursor), and a bidi override reorders what the operator reads. So every line the CLI
 * prints goes through {@link terminalIo} (runCli wraps the streams it is given), which writes each such character as
 * a visible `\uXXXX` escape:
 * - C0 controls (U+0000–U+001F) but the newline that ends a line, DEL (U+007F), C1 controls (U+0080–U+009F);
 * - the line and paragraph separators U+2028 / U+2029;
 * - the bidi controls: embeddings and overrides U+202A–U+202E, isolates U+2066–U+2069, and the marks U+200E, U+200F,
 *   U+061C.
 * The `\uXXXX` form is JSON's own: a `--json` document stays valid and parses to the same value (JSON.stringify
 * escapes C0 itself but leaves DEL, C1, U+2028/2029 and the bidi controls raw), and is byte for byte unchanged
 * when it holds none of them. Everything else — any script, emoji, a backslash — is printed as it is.
 *
 * A newline inside a value would still start a line the value's author wrote (a fake `links:` block, say): printers
 * that put such values into a line build it with {@link line}, which escapes the newline inside each value too.
 */
import type { Io } from './io';

function unsafe(cp: number, keepNewline: boolean): boolean {
  if (cp < 0x20) return !(keepNewline && cp === 0x0a);
  if (cp < 0x7f) return false;
  if (cp <= 0x9f) return true; // DEL and C1
  return cp === 0x061c || cp === 0x200e || cp === 0x200f || cp === 0x2028 || cp === 0x2029
    || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

function escapeUnsafe(text: string, keepNewline: boolean): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i += 1) {
    const cp = text.charCodeAt(i); // every unsafe character is in the BMP: code units suffice
    if (!unsafe(cp, keepNewline)) continue;
    out += `${text.slice(from, i)}\\u${cp.toString(16).padStart(4, '0')}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/** `text` with every character a terminal would act on escaped visibly (`\u001b`), newlines kept. Pure. */
export function forTerminal(text: string): string {
  return escapeUnsafe(text, true);
}

/** A value to print inside one line: as {@link forTerminal}, and its newlines escaped too. Pure. */
export function oneLine(value: unknown): string {
  return escapeUnsafe(String(value), false);
}

/** A tagged template for a printed line: each interpolated value is {@link oneLine}d; the literal parts are ours. */
export function line(parts: TemplateStringsArray, ...values: unknown[]): string {
  let out = parts[0] ?? '';
  values.forEach((v, i) => {
    out += oneLine(v) + (parts[i + 1] ?? '');
  });
  return out;
}

/** Streams that write only what {@link forTerminal} lets through: the one place every CLI printer goes through. */
export function terminalIo(io: Io): Io {
  return { out: (t) => io.out(forTerminal(t)), err: (t) => io.err(forTerminal(t)) };
}
