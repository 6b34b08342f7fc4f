import { ASTNode, BREAK, visit } from 'graphql';

/**
 * True when the AST uses @skip or @include anywhere: what it selects then depends on the request's variables (the
 * executor and the SQL compiler treat such documents apart).
 */
export function hasSkipOrInclude(node: ASTNode): boolean {
  let found = false;
  visit(node, {
    Directive(d) {
      if (d.name.value === 'skip' || d.name.value === 'include') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}
