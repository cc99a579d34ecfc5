/**
 * Child process for the embedded-lifecycle tests: opens the embedded database in the data
 * directory given as argv[2], commits a row, prints `ready`, then holds the directory until it
 * is killed. Run with `node --import tsx`.
 */
import { openDatabase } from '../src/storage/database';
import { sql } from '../src/storage/sql';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: hold-data-dir.ts <data dir>');
const db = await openDatabase({ kind: 'embedded', dataDir });
await db.sql.query(sql`create table if not exists survivors (note text not null)`);
await db.sql.query(sql`insert into survivors values ('committed before the kill')`);
process.stdout.write('ready\n');
setInterval(() => {}, 60_000);
