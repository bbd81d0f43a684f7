// `npm run codegen`: typed documents, generated from the committed schema.graphql, for the
// operations the tests use (test/**/*.ts, graphql(`…`)) into test/generated/, and for the
// dashboard's (src/dashboard/lib/operations.ts) into src/dashboard/generated/ as plain strings,
// so the page ships no GraphQL parser.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config = { scalars: { DateTime: 'string', Long: 'number' }, useTypeImports: true, enumsAsTypes: true, importExtension: '.ts' };

const codegen: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      documents: ['test/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config,
      presetConfig: { fragmentMasking: false },
    },
    'src/dashboard/generated/': {
      documents: ['src/dashboard/**/*.{ts,tsx}', '!src/dashboard/generated/**'],
      preset: 'client',
      config: { ...config, documentMode: 'string' },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default codegen;
