-- A commit in one statement (PostgresCommit): the lease check and every write of the commit, each
-- kind's rows given as arrays, one row at a time in the order a transaction of single statements
-- would take. Each statement inside is planned once per connection with scalar parameters; a
-- failed check raises PDLSE (a lease no longer held) or PDVER (a row not at the version read, or a
-- new one that exists), naming it, and the whole commit rolls back.
CREATE OR REPLACE FUNCTION perdura_commit(
  lease_name text[], lease_owner text[], lease_version bigint[],
  i_ns text[], i_wf text[], i_run text[], i_version bigint[], i_state bytea[], i_type text[], i_queue text[],
  i_status int[], i_start bigint[], i_close bigint[], i_exec bigint[], i_length bigint[], i_first text[],
  i_memo bytea[], i_attrs bytea[], i_pending int[], i_seq bigint[],
  u_ns text[], u_wf text[], u_run text[], u_expected bigint[], u_version bigint[], u_state bytea[], u_type text[],
  u_queue text[], u_status int[], u_start bigint[], u_close bigint[], u_exec bigint[], u_length bigint[],
  u_first text[], u_memo bytea[], u_attrs bytea[], u_pending int[],
  n_ns text[], n_wf text[], n_run text[], n_expected bigint[], n_version bigint[], n_state bytea[], n_status int[],
  n_length bigint[],
  c_ns text[], c_wf text[], c_run text[],
  h_ns text[], h_wf text[], h_run text[], h_first bigint[], h_last bigint[], h_data bytea[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Share locks on the lease rows, in the order given (by name): a takeover waits for this commit.
  FOR i IN 1 .. coalesce(array_length(lease_name, 1), 0) LOOP
    PERFORM 1 FROM cluster_leases
      WHERE name = lease_name[i] AND owner = lease_owner[i] AND version = lease_version[i] FOR SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'PDLSE', MESSAGE = 'this server no longer holds lease ' || lease_name[i]
        || ' (version ' || lease_version[i] || '); another server took over';
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(i_ns, 1), 0) LOOP
    INSERT INTO executions (namespace, workflow_id, run_id, version, state, workflow_type, task_queue, status,
        start_time, close_time, execution_time, history_length, first_run_id, memo, search_attributes, pending, run_seq)
      VALUES (i_ns[i], i_wf[i], i_run[i], i_version[i], i_state[i], i_type[i], i_queue[i], i_status[i], i_start[i],
        i_close[i], i_exec[i], i_length[i], i_first[i], i_memo[i], i_attrs[i], i_pending[i], i_seq[i])
      ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'PDVER', MESSAGE = 'execution ' || i_ns[i] || '/' || i_wf[i] || '/' || i_run[i]
        || ' already exists';
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(u_ns, 1), 0) LOOP
    UPDATE executions SET version = u_version[i], state = u_state[i], workflow_type = u_type[i],
        task_queue = u_queue[i], status = u_status[i], start_time = u_start[i], close_time = u_close[i],
        execution_time = u_exec[i], history_length = u_length[i], first_run_id = u_first[i], memo = u_memo[i],
        search_attributes = u_attrs[i], pending = u_pending[i]
      WHERE namespace = u_ns[i] AND workflow_id = u_wf[i] AND run_id = u_run[i] AND version = u_expected[i];
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'PDVER', MESSAGE = 'execution ' || u_ns[i] || '/' || u_wf[i] || '/' || u_run[i]
        || ' is no longer at version ' || u_expected[i];
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(n_ns, 1), 0) LOOP
    UPDATE executions SET version = n_version[i], state = n_state[i], status = n_status[i], history_length = n_length[i]
      WHERE namespace = n_ns[i] AND workflow_id = n_wf[i] AND run_id = n_run[i] AND version = n_expected[i];
    IF NOT FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'PDVER', MESSAGE = 'execution ' || n_ns[i] || '/' || n_wf[i] || '/' || n_run[i]
        || ' is no longer at version ' || n_expected[i];
    END IF;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(c_ns, 1), 0) LOOP
    INSERT INTO current_executions VALUES (c_ns[i], c_wf[i], c_run[i])
      ON CONFLICT (namespace, workflow_id) DO UPDATE SET run_id = excluded.run_id;
  END LOOP;
  FOR i IN 1 .. coalesce(array_length(h_ns, 1), 0) LOOP
    INSERT INTO history_batches (namespace, workflow_id, run_id, first_event_id, last_event_id, data, run_seq)
      VALUES (h_ns[i], h_wf[i], h_run[i], h_first[i], h_last[i], h_data[i],
        (SELECT run_seq FROM executions WHERE namespace = h_ns[i] AND workflow_id = h_wf[i] AND run_id = h_run[i]));
  END LOOP;
END
$$
