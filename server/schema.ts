import { buildSchema, NonEmptyArray } from 'type-graphql';
import type { GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { schoolFields } from './modules/school/school.resolver';
import { communityFields } from './modules/community/community.resolver';
import { resolvers } from './modules/resolvers';
import { enforceOperations } from './auth/policy';

let built: Promise<GraphQLSchema> | null = null;

/** Hot relation fields resolved by plain functions (they may answer synchronously; see schoolFields). */
const FAST_FIELDS: Record<string, Record<string, GraphQLFieldResolver<any, any, any>>> = {
  School: schoolFields as unknown as Record<string, GraphQLFieldResolver<any, any, any>>,
  Community: communityFields as unknown as Record<string, GraphQLFieldResolver<any, any, any>>,
};

/** The schema is built once per process: type-graphql keeps one resolver instance per class. */
export function getSchema(): Promise<GraphQLSchema> {
  return (built ??= buildSchema({
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- type-graphql's own signature
    resolvers: resolvers as unknown as NonEmptyArray<Function>,
    // No input class carries class-validator decorators: inputs are checked by their GraphQL types and services.
    validate: false,
    emitSchemaFile: false,
    // Its check runs the whole introspection query over the new schema (a twentieth of a warm start); Apollo
    // validates the schema when it starts (assertValidSchema) and schema.test.ts compares it with the tracked one.
    skipCheck: true,
  }).then((schema) => {
    for (const [typeName, fields] of Object.entries(FAST_FIELDS)) {
      const type = schema.getType(typeName) as GraphQLObjectType;
      for (const [name, fn] of Object.entries(fields)) type.getFields()[name].resolve = fn;
    }
    enforceOperations(schema);
    return schema;
  }));
}
