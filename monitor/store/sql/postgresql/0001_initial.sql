-- The history schema as monitor serve kept it before vantage points (the same tables as SQLite's version 1), in
-- PostgreSQL types. Node observations are range-partitioned by the crawl's start time: monthly partitions are created
-- ahead by the application and retention drops whole partitions instead of deleting millions of rows.
CREATE TABLE crawls (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    snapshot_id TEXT,
    started_at DOUBLE PRECISION NOT NULL,
    ended_at DOUBLE PRECISION NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('success', 'failure')),
    failure TEXT,
    detail TEXT,
    network TEXT,
    simulated BOOLEAN NOT NULL DEFAULT FALSE,
    nodes INTEGER NOT NULL DEFAULT 0,
    duration DOUBLE PRECISION NOT NULL
);
-- /api/history: crawls by start time.
CREATE INDEX crawls_started ON crawls (started_at);
-- No foreign key to crawls: checking one per COPYed row costs ingest time, and observations go by dropping
-- partitions, not by cascading deletes. Readers always reach observations through a crawl id.
CREATE TABLE observations (
    crawl_id BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    node_id BYTEA NOT NULL,
    ip INET,
    udp_port INTEGER,
    reachable BOOLEAN NOT NULL,
    network TEXT NOT NULL,
    provider TEXT,
    region TEXT,
    country TEXT,
    asn BIGINT
) PARTITION BY RANGE (started_at);
-- Created on every partition: the union of the latest crawls reads one crawl's rows.
CREATE INDEX observations_crawl ON observations (crawl_id);
CREATE TABLE aggregates (
    crawl_id BIGINT NOT NULL REFERENCES crawls (id),
    population TEXT NOT NULL,
    dimension TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL
);
-- /api/history: the aggregates of the selected crawls.
CREATE INDEX aggregates_crawl ON aggregates (crawl_id);
CREATE TABLE documents (
    crawl_id BIGINT PRIMARY KEY REFERENCES crawls (id),
    body BYTEA NOT NULL
);
CREATE TABLE totals (
    name TEXT PRIMARY KEY,
    value DOUBLE PRECISION NOT NULL
);
