// ESLint (flat config): typescript-eslint's recommended rules on every TypeScript file of the repo,
// Prettier owns the layout (eslint-config-prettier turns the layout rules off). `npm run lint` runs it
// with --max-warnings 0 (part of `npm test`, so CI fails on any finding).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'docs/api/',
      'results/',
      'bench/out/',
      '.cache/',
      'test-artifacts/',
      '.exp/',
      'widgets/lab/labextension/',
      'widgets/lab/lib/',
      'test/lab-app/**/node_modules/',
      'native/build/',
      // A Handlebars template that @jupyterlab/builder fills in, not JavaScript until then.
      'test/lab-app/index.template.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setImmediate: 'readonly',
        performance: 'readonly',
        URL: 'readonly',
        window: 'readonly',
        document: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Jupyter messages and widget states are JSON from the wire (typed `any` where the protocol allows any
    // JSON), the classic Notebook's RequireJS modules have no types, and tests read such messages back.
    files: ['kernel/**/*.ts', 'widgets/**/*.ts', 'test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // CommonJS config files (the test JupyterLab apps' webpack config) run in Node with require/module.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Global declarations (`declare var` in a declaration file) must use var.
    files: ['**/*.d.ts'],
    rules: { 'no-var': 'off' },
  },
);
