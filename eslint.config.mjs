// Lint for bugs, not style (Prettier owns layout). Type-aware rules are the ones that catch real defects in
// async server code (a promise nobody awaits, an async callback where a sync one is expected); the rest of
// typescript-eslint's recommended set runs without type information, which keeps `npm run lint` fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'addin/dist/**',
      'addin/dist-dev/**',
      'coverage/**',
      'node_modules/**',
      'tests/artifacts/**',
      '.hub-data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The code that runs in the hub and the add-in; tests are checked by the rules that need no types (faster).
    files: ['server/**/*.ts', 'addin/src/**/*.ts', 'bench/**/*.ts', 'migrations/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: false, attributes: false } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-array-sort-compare': ['error', { ignoreStringArrays: true }],
    },
  },
  {
    rules: {
      // tsc's noUnusedLocals/noUnusedParameters report these with the compiler's own rules.
      '@typescript-eslint/no-unused-vars': 'off',
      // The hub reads raw SQL rows and GraphQL results; `any` at those edges is deliberate.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Decorated entity and resolver classes declare merged interfaces; namespaces come from Office's types.
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/no-namespace': 'off',
      // Migrations and bench extras are loaded by path at run time, which only require() can do in CommonJS.
      '@typescript-eslint/no-require-imports': 'off',
      // Style, not bugs: the fake Office host keeps `self` for its nested proxies; regex escapes and spaces.
      '@typescript-eslint/no-this-alias': 'off',
      'no-useless-escape': 'off',
      'no-regex-spaces': 'off',
      eqeqeq: ['error', 'smart'],
      'no-self-compare': 'error',
      'no-template-curly-in-string': 'error',
      'no-unreachable-loop': 'error',
      'no-constant-binary-expression': 'error',
      'array-callback-return': 'error',
      'no-useless-assignment': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      'prefer-const': ['error', { destructuring: 'all' }],
    },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
      },
    },
  },
  prettier,
);
