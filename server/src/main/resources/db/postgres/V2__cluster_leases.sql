CREATE TABLE cluster_leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  address TEXT NOT NULL,
  version BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
