import type { ProviderDefinition } from '../definition';
import { config } from './config';
import { teams as connector } from './connector';
import type { NoOptions } from '../option-schemas';
import { spec } from './spec';

export const teams: ProviderDefinition<'teams', NoOptions> = { spec, config, connector };
