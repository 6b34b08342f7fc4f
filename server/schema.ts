import { buildSchema, NonEmptyArray } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { resolvers } from './modules/resolvers';

let built: Promise<GraphQLSchema> | null = null;

/** The schema is built once per process: type-graphql keeps one resolver instance per class. */
export function getSchema(): Promise<GraphQLSchema> {
  return (built ??= buildSchema({
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    validate: { forbidUnknownValues: false },
    emitSchemaFile: false,
  }));
}
