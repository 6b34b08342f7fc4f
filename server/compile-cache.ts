import nodeModule from 'node:module';

// Node 22.1+ can keep V8's compiled code of every module it loads in a cache folder, so a warm start skips
// parsing and compiling the dependencies (TypeORM, Apollo, graphql-js…), most of the time `node main.js` spends
// before it listens. Imported first by main.ts. Older Node starts without it; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
