-- The history schema of monitor serve before vantage points (PRAGMA user_version 1). Files created by that version
-- are adopted as having applied this migration.
CREATE TABLE IF NOT EXISTS crawls (
    id INTEGER PRIMARY KEY,
    snapshot_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    failure TEXT,
    detail TEXT,
    network TEXT,
    simulated INTEGER NOT NULL DEFAULT 0,
    nodes INTEGER NOT NULL DEFAULT 0,
    duration REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS crawls_started ON crawls (started_at);
CREATE TABLE IF NOT EXISTS observations (
    crawl_id INTEGER NOT NULL REFERENCES crawls (id),
    node_id BLOB NOT NULL,
    ip TEXT,
    udp_port INTEGER,
    reachable INTEGER NOT NULL,
    network TEXT NOT NULL,
    provider TEXT,
    region TEXT,
    country TEXT,
    asn INTEGER
);
CREATE INDEX IF NOT EXISTS observations_crawl ON observations (crawl_id);
CREATE TABLE IF NOT EXISTS aggregates (
    crawl_id INTEGER NOT NULL REFERENCES crawls (id),
    population TEXT NOT NULL,
    dimension TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS aggregates_crawl ON aggregates (crawl_id);
CREATE TABLE IF NOT EXISTS documents (
    crawl_id INTEGER PRIMARY KEY REFERENCES crawls (id),
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS totals (
    name TEXT PRIMARY KEY,
    value REAL NOT NULL
);
