// @ts-check
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

/** Modules workflow code must never load: Node built-ins and anything that does I/O. */
const forbiddenInWorkflows = [
  ...builtinModules.flatMap((m) => [m, `node:${m}`]),
  'pg', 'undici', 'fastify', 'pino', 'prom-client', '@temporalio/client', '@temporalio/worker', '@temporalio/activity',
];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'dist-dev/**', 'node_modules/**', 'test-artifacts/**', 'coverage/**', 'examples/**', '.data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: __dirname } },
    rules: {
      // forgetting to await an activity or a signal is a real bug in this codebase
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code (and the pure modules it bundles) stays deterministic and free of I/O: no Node built-ins,
    // no clients, and only *types* from the activities.
    files: ['src/workflows/**/*.ts', 'src/shared/**/*.ts', 'src/connectors/spec.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.map((name) => ({ name, message: 'workflow code must stay free of I/O and Node built-ins' })),
          patterns: [
            { group: ['**/activities', '**/activities/**', '**/db/**', '**/api/**', '**/config/load', '**/config/secret'], allowTypeImports: true, message: 'workflows import only types from activities, db, api and config' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
