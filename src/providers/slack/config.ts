import { configSpec, requireCredential, noWhitespace, path } from '../config-checks';
import { schema, type SlackOptions } from './options';

/** The options of a slack entry (its URL's query keys, typed by ./options.ts) and what else makes an entry wrong. Pure. */
export const config = configSpec<SlackOptions>({
  optionKeys: ['channel'],
  check: (parts) => {
    const webApi = parts.url.pathname.endsWith('/chat.postMessage');
    if (webApi && !parts.options.channel) return ['the Web API URL needs a channel option'];
    if (webApi) return [...requireCredential(parts, 'bot token'), ...noWhitespace(parts)];
    if (parts.options.channel !== undefined) return ['the channel option only applies to the Web API URL (…/api/chat.postMessage); an incoming webhook posts to its own channel'];
    return path(parts) === '' ? ['the URL must be the incoming webhook URL (https://hooks.slack.com/services/…)'] : [];
  },
  schema,
});
