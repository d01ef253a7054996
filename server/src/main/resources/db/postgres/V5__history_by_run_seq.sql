-- History batches are found through executions.run_seq, a number given to each run when it is first
-- written, rather than through an index over the run's three text keys: those keys put the batches
-- of the runs in flight all over the index, so every commit rewrote several of its pages, while run
-- numbers of runs started together sit side by side. The text keys stay in the rows, and reads
-- check them, so two runs sharing a number would only cost a few extra rows read.
-- Rows of runs that no longer exist cannot be read by anyone and are not carried over.
ALTER TABLE executions ADD COLUMN run_seq BIGINT NOT NULL DEFAULT 0;
CREATE TEMPORARY SEQUENCE run_seq_of_existing_runs;
UPDATE executions SET run_seq = nextval('run_seq_of_existing_runs');
DROP SEQUENCE run_seq_of_existing_runs;
ALTER TABLE history_batches ADD COLUMN run_seq BIGINT;
UPDATE history_batches h SET run_seq = e.run_seq FROM executions e
  WHERE e.namespace = h.namespace AND e.workflow_id = h.workflow_id AND e.run_id = h.run_id;
DELETE FROM history_batches WHERE run_seq IS NULL;
ALTER TABLE history_batches ALTER COLUMN run_seq SET NOT NULL;
ALTER TABLE history_batches DROP CONSTRAINT history_batches_pkey;
CREATE INDEX history_batches_run ON history_batches (run_seq, first_event_id)
