import { registerFunctions } from './functions';

// In the shared runtime CustomFunctions exists once office.js has loaded; the fake host defines it too.
if (typeof CustomFunctions !== 'undefined') registerFunctions();
