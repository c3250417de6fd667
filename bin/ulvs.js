#!/usr/bin/env node
// The checkout's ulvs (and, through a link named ipvsadm, ulvs's ipvsadm): the same router as the single executable.
import { start } from '../dist/src/cli/entry.js';

await start(process.argv);
