-- Current-run pointers in one b-tree keyed by the workflow id, instead of a table plus an index over
-- the same key: every start wrote a page of each, and each lookup went through both.
-- The rows are small (three keys), the kind of table SQLite keeps best without a rowid.
CREATE TABLE current_executions_keyed (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  PRIMARY KEY (namespace, workflow_id)
) WITHOUT ROWID;
INSERT INTO current_executions_keyed SELECT namespace, workflow_id, run_id FROM current_executions;
DROP TABLE current_executions;
ALTER TABLE current_executions_keyed RENAME TO current_executions;
