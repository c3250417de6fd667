// Entry of the single executable (packaging/build.mjs bundles it): the same router as bin/ulvs.js.
import { runCli } from '../cli/main.js';

void runCli(process.argv);
