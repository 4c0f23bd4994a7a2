// ESLint flat config. TypeScript files get typescript-eslint's type-checked recommended rules (the
// project service reuses tsconfig.json, so lint sees exactly what `tsc` sees); plain JS files (this
// file, bin/) get the syntactic rules only.
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'web/dist/', 'data/', 'coverage/', 'test-results/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // `_`-prefixed names are deliberate: unused parameters of callbacks, fields dropped by destructuring.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Fastify handlers and hooks are async by contract even when a given one has nothing to await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // DESIGN §9: no default exports in application code.
    files: ['src/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports (DESIGN §9: no default exports).' },
        {
          selector: "ExportSpecifier[exported.name='default']",
          message: 'Use named exports (DESIGN §9: no default exports).',
        },
      ],
      // The server logs through pino and prints through process.stdout; only the CLI talks to a terminal.
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**'],
    rules: { 'no-console': 'off' },
  },
);
