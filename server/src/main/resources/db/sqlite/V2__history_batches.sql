CREATE TABLE history_batches (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  first_event_id INTEGER NOT NULL,
  last_event_id INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (namespace, workflow_id, run_id, first_event_id)
);
