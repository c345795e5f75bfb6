// Runs the CLI from source without building: `node --import tsx scripts/palisade.ts <command> ...`.
import { main } from '../src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
