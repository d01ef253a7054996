CREATE TABLE namespaces (
  name TEXT PRIMARY KEY,
  id TEXT NOT NULL,
  description TEXT NOT NULL,
  owner_email TEXT NOT NULL,
  retention_seconds BIGINT NOT NULL,
  data TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE executions (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  state BYTEA NOT NULL,
  workflow_type TEXT NOT NULL,
  task_queue TEXT NOT NULL,
  status INTEGER NOT NULL,
  start_time BIGINT NOT NULL,
  close_time BIGINT NOT NULL,
  execution_time BIGINT NOT NULL,
  history_length BIGINT NOT NULL,
  first_run_id TEXT NOT NULL,
  memo BYTEA,
  search_attributes BYTEA,
  PRIMARY KEY (namespace, workflow_id, run_id)
);
CREATE INDEX executions_by_start ON executions (namespace, start_time);
CREATE INDEX executions_by_close ON executions (namespace, close_time);
CREATE TABLE current_executions (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  PRIMARY KEY (namespace, workflow_id)
);
CREATE TABLE history_events (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  event_id BIGINT NOT NULL,
  data BYTEA NOT NULL,
  PRIMARY KEY (namespace, workflow_id, run_id, event_id)
);
CREATE TABLE tasks (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  scheduled_event_id BIGINT NOT NULL,
  task_queue TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  priority_key INTEGER NOT NULL,
  fairness_key TEXT NOT NULL,
  fairness_weight REAL NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (namespace, workflow_id, run_id, kind, scheduled_event_id)
);
CREATE TABLE timers (
  namespace TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  timer_key TEXT NOT NULL,
  fire_at BIGINT NOT NULL,
  PRIMARY KEY (namespace, workflow_id, run_id, timer_key)
);
