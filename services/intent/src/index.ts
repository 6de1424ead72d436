export { startIntent, type IntentHandle, type IntentOptions } from './app.ts';
export { loadIntentConfig, intentConfigSchema, type IntentConfig } from './config.ts';
export { parseTaxonomy, loadTaxonomy } from './taxonomy.ts';
