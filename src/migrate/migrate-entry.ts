/** Runs `ulvs migrate` alone (tests spawn it before the lead wires it into src/cli/main.ts). */
import { migrateCommand } from '../cli/migrate.js';

await migrateCommand().exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2)).parseAsync(process.argv);
