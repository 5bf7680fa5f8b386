import { parseInbound } from '../../config/inbound';
import { SECRET_PLACEHOLDER, inboundGuide } from '../../inbound-guide';
import { str, required, type Command } from '../command';
import { EXIT, FailureError, UsageError } from '../io';

export const inboundGuideCommand: Command = {
  path: ['inbound', 'guide'],
  summary: "print the provider-side setup (Business Rule, webhook settings) for one inbound entry",
  help: `
Usage: probectl-notify inbound guide <entry-id> --base-url URL [--show-secret]

Prints what an administrator configures on the provider's side for entry <entry-id> of
PROBECTL_NOTIFY_INBOUND: the ServiceNow Business Rule script (signed with a timestamp), the Jira webhook or
Automation rule, the PagerDuty V3 subscription or the Opsgenie webhook integration, and a signed curl example
of the portable contract. The secret is shown as ${SECRET_PLACEHOLDER} unless --show-secret is given (then the
entry's newest secret is written in; keep that output private).

  --base-url URL   the API's public base URL as the provider reaches it, e.g. https://notify.example.com
  --show-secret    write the secret into the text instead of the placeholder

Example:
  probectl-notify inbound guide sn-main --base-url https://notify.example.com > servicenow-setup.txt

Exit: 0 printed, 1 no such entry, 2 usage, 78 PROBECTL_NOTIFY_INBOUND invalid.
`,
  options: { 'base-url': { type: 'string' }, 'show-secret': { type: 'boolean' } },
  positionals: true,
  async run({ values, positionals, env, io }) {
    if (positionals.length !== 1) throw new UsageError('give exactly one entry id\nsee: probectl-notify inbound guide --help');
    const entryId = positionals[0]!;
    const baseUrl = required(values, 'base-url', inboundGuideCommand);
    let parsed: URL;
    try {
      parsed = new URL(baseUrl);
    } catch {
      throw new UsageError('--base-url is not an absolute URL');
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError('--base-url must be http(s)');
    const entry = parseInbound(env.PROBECTL_NOTIFY_INBOUND).find((e) => e.id === entryId); // ConfigError → 78
    if (!entry) throw new FailureError(`PROBECTL_NOTIFY_INBOUND has no entry ${JSON.stringify(entryId.slice(0, 64))}`);
    let text = inboundGuide({ id: entry.id, provider: entry.provider, baseUrl: str(values, 'base-url')!, requireTimestamp: entry.requireTimestamp });
    if (values['show-secret']) text = text.split(SECRET_PLACEHOLDER).join(entry.secrets[entry.secrets.length - 1]!.reveal());
    io.out(text);
    return EXIT.ok;
  },
};
