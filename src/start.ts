/** `npm start`: the bot and a worker in one process (small setups). */
import { runFromCommandLine } from './main.js';

await runFromCommandLine('all');
