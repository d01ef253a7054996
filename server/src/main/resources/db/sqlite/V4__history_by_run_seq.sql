-- History batches are found through executions.run_seq, a number given to each run when it is first
-- written, rather than through an index over the run's three text keys: those keys put the batches
-- of the runs in flight all over the index, so every commit rewrote several of its pages, while run
-- numbers of runs started together sit side by side. The text keys stay in the rows, and reads
-- check them, so two runs sharing a number would only cost a few extra rows read.
-- Rows of runs that no longer exist cannot be read by anyone and are not carried over.
ALTER TABLE executions ADD COLUMN run_seq INTEGER NOT NULL DEFAULT 0;
UPDATE executions SET run_seq = rowid;
CREATE TABLE history_batches_new (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  first_event_id INTEGER NOT NULL,
  last_event_id INTEGER NOT NULL,
  data BLOB NOT NULL,
  run_seq INTEGER NOT NULL
);
INSERT INTO history_batches_new
  SELECT h.namespace, h.workflow_id, h.run_id, h.first_event_id, h.last_event_id, h.data, e.run_seq
  FROM history_batches h JOIN executions e
    ON e.namespace = h.namespace AND e.workflow_id = h.workflow_id AND e.run_id = h.run_id;
DROP TABLE history_batches;
ALTER TABLE history_batches_new RENAME TO history_batches;
CREATE INDEX history_batches_run ON history_batches (run_seq, first_event_id);
