// ESLint flat config. The layer rule: only src/extension/ may import `vscode`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test/fixtures/**', 'bench/kernels/**', 'examples/**', 'dist/**', '.vscode-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode (layer rule).' }] }],
    },
  },
  {
    files: ['scripts/build.mjs', 'scripts/test.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' } },
  },
  {
    files: ['src/extension/**', 'test/vscode/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src/agent/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Only src/extension/ may import vscode (layer rule).' }],
        patterns: [{ group: ['../core/*', '../extension/*', '../cli/*'], message: 'The agent is standalone: Node built-ins and its own files only.' }],
      }],
    },
  },
);
