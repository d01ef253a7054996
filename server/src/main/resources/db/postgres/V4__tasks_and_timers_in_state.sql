-- A run's queued tasks and armed timers live in its state (executions.state) from now on. The
-- tasks and timers tables keep only rows written before, until each run's next change folds them in.
-- pending = 1 when the state holds a queued task or an armed timer: a start reads those runs.
ALTER TABLE executions ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX executions_pending ON executions (pending) WHERE pending = 1;
