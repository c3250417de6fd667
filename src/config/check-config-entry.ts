/** Runs `check-config` alone (tests spawn it; `ulvs check-config` goes through src/cli/main.ts). */
import { checkConfigCommand } from '../cli/check-config.js';

checkConfigCommand().parse(process.argv);
