// Preloaded by `npm run jest` (node --require). Jest needs --experimental-vm-modules because PGlite loads its
// WebAssembly with a dynamic import() inside Jest's module sandbox, and Node then warns once per worker that VM
// modules are experimental. That one warning, named here, is expected and hidden; every other warning prints.
'use strict';
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === 'string' ? rest[0] : rest[0] && rest[0].type;
  const message = typeof warning === 'string' ? warning : warning && warning.message;
  if (
    type === 'ExperimentalWarning' &&
    typeof message === 'string' &&
    message.startsWith('VM Modules is an experimental feature')
  )
    return;
  return emitWarning.call(this, warning, ...rest);
};
