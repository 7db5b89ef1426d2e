import { runFromCommandLine } from '../main.js';

await runFromCommandLine('bot');
