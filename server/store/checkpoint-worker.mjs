// Runs WAL checkpoints for the SQLite store on its own thread and its own
// connection, so copying the write-ahead log into the database never happens
// inside a commit on the event loop. Plain JavaScript so it needs no loader.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const everyMs = workerData.everyMs;

function checkpoint(mode) {
  try {
    db.pragma(`wal_checkpoint(${mode})`);
  } catch {
    // A busy database is checkpointed next time; the WAL just grows a little.
  }
}

const timer = setInterval(() => checkpoint('PASSIVE'), everyMs);

parentPort.on('message', (msg) => {
  if (msg === 'close') {
    clearInterval(timer);
    checkpoint('TRUNCATE');
    db.close();
    parentPort.postMessage('closed');
  }
});
