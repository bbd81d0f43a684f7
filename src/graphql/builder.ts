// The Pothos schema builder: configuration only. Types live in ./types, one file per type.
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import SimpleObjectsPlugin from '@pothos/plugin-simple-objects';
import type PrismaTypes from '../generated/pothos-prisma-types.ts';
import { getDatamodel } from '../generated/pothos-prisma-types.ts';
import { complexityOptions } from './complexity.ts';
import type { GraphQLContext } from './context.ts';
import { decodeNodeId } from './ids.ts';

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 50;

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  Scalars: { DateTime: { Input: Date; Output: Date }; Long: { Input: number; Output: number } };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}>({
  // First, so its wrapper is the outermost: an operation over the cost budget (complexity.ts) is
  // refused before any other plugin or resolver does work for it.
  plugins: [ComplexityPlugin, RelayPlugin, PrismaPlugin, SimpleObjectsPlugin],
  defaultFieldNullability: false,
  prisma: {
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    maxConnectionSize: MAX_PAGE_SIZE,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesQueryOptions: false,
    nodeQueryOptions: {
      description: 'null for an unknown id or one outside the token\'s reach',
      // An id that decodes but names no node is null without a lookup; unknown and foreign ids
      // of a node type are null too (the prismaNodes are `nullable`), never an error.
      resolve: (_root, args, _ctx, _info, resolveNode) => (args.id.typename ? resolveNode(args.id) : null),
    },
    // Only the node field parses global ids; every other id argument is decoded by idOf (ids.ts).
    decodeGlobalID: (globalID) => decodeNodeId(globalID) ?? { typename: '', id: '' },
    // A connection field already multiplies its selection by the page size (pageComplexity).
    edgesFieldOptions: { complexity: { field: 1, multiplier: 1 } },
  },
  complexity: complexityOptions,
});

builder.queryType({});
builder.mutationType({});
