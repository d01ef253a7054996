-- Fails the statement, and so its transaction, with SQLSTATE `code` when `ok` is false. A commit
-- is sent as one message of statements (PostgresCommit): each checks what it changed through this,
-- so that nothing needs to come back to the server before the transaction can commit.
CREATE OR REPLACE FUNCTION perdura_require(ok boolean, code text, message text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT ok THEN
    RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
  END IF;
END
$$
