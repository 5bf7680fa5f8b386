import { configSpec, path } from '../config-checks';
import { noOptions, type NoOptions } from '../option-schemas';

/** The options of a teams entry (none of its own: only the shared ones) and what makes an entry wrong. Pure. */
export const config = configSpec<NoOptions>({
  optionKeys: [],
  check: (parts) => {
    const host = parts.url.hostname.toLowerCase();
    const retired =
      host.endsWith('.webhook.office.com') ||
      host === 'webhook.office.com' ||
      (host === 'outlook.office.com' && parts.url.pathname.startsWith('/webhook'));
    if (retired) {
      return [
        'this is an Office 365 connector webhook URL; Microsoft retired those connectors (final shutdown May 2026), ' +
          'so nothing would be posted. Create a Teams Workflows webhook ("When a Teams webhook request is received") and use its URL',
      ];
    }
    return path(parts) === '' ? ['the URL must be the Workflows webhook URL (…/triggers/manual/paths/invoke?…&sig=…)'] : [];
  },
  schema: noOptions,
});
