import path from 'node:path';
import express, { Router } from 'express';

/**
 * GraphiQL served from the installed packages, so the explorer works with no internet (Apollo's landing
 * page loads from a CDN). The token is typed into the headers pane; it is kept in the browser's
 * localStorage by GraphiQL, never on the server.
 */
export function graphiqlRouter(): Router {
  const router = Router();
  const mod = (p: string) => path.dirname(require.resolve(p));
  router.use('/graphiql/react', express.static(path.join(mod('react/package.json'), 'umd'), { maxAge: '1d' }));
  router.use('/graphiql/react-dom', express.static(path.join(mod('react-dom/package.json'), 'umd'), { maxAge: '1d' }));
  router.use('/graphiql/app', express.static(mod('graphiql/package.json'), { maxAge: '1d' }));
  return router;
}

export const GRAPHIQL_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>High Needs Hub · GraphQL explorer</title>
<link rel="stylesheet" href="/graphiql/app/graphiql.min.css">
<style>body{margin:0;height:100vh}#graphiql{height:100vh}</style>
</head>
<body>
<div id="graphiql">Loading the explorer…</div>
<script src="/graphiql/react/react.production.min.js"></script>
<script src="/graphiql/react-dom/react-dom.production.min.js"></script>
<script src="/graphiql/app/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  const defaultQuery = '# High Needs Hub. Put your token in Headers below:\\n#   { "Authorization": "Bearer hnh_..." }\\n' +
    '{\\n  me { name role communityCode }\\n  schools(first: 5, filter: { phase: [PRIMARY] }) {\\n    totalCount\\n    nodes { urn name district { name } community { code name } funding(term: "AUTUMN-2025") { protectedAmount communityShare total } }\\n  }\\n}\\n';
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultQuery, defaultHeaders: '{ "Authorization": "Bearer " }', shouldPersistHeaders: true }));
</script>
</body>
</html>`;
