import type { ProviderDefinition } from '../definition';
import { config } from './config';
import { slack as connector } from './connector';
import type { SlackOptions } from './options';
import { spec } from './spec';

export const slack: ProviderDefinition<'slack', SlackOptions> = {
  spec,
  config,
  connector,
  // Slack limits chat.postMessage per channel: each channel of one token is its own key.
  paceScope: (s) => s.channel ?? '',
};
