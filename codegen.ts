// `npm run codegen`: typed documents for the operations the tests use (test/**/*.ts, graphql(`…`)),
// generated from the committed schema.graphql into test/generated/.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', '!test/generated/**'],
  ignoreNoDocuments: true,
  generates: {
    'test/generated/': {
      preset: 'client',
      config: { scalars: { DateTime: 'string' }, useTypeImports: true, enumsAsTypes: true, importExtension: '.ts' },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
