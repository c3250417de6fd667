// Entry of the single executable (packaging/build.mjs bundles it): the same router as bin/ulvs.js.
import { start } from '../cli/entry.js';

void start(process.argv);
