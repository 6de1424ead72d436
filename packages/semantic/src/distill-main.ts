// `pnpm --filter @moma/semantic distill` (run by the root postinstall): writes the static table next to the package.
import { STATIC_TABLE_FILE, writeStaticTable } from './static-encoder.ts';

const t0 = performance.now();
const table = await writeStaticTable();
console.log(`static table ${STATIC_TABLE_FILE}: ${table.scales.length} tokens × ${table.dim} from ${table.source} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
