-- Vantage points: every crawl names the crawler that made it; counters are kept per vantage. Rows written before
-- this migration belong to the unnamed vantage ''.
ALTER TABLE crawls ADD COLUMN vantage TEXT NOT NULL DEFAULT '';
CREATE INDEX crawls_vantage_success ON crawls (vantage, id) WHERE result = 'success';
ALTER TABLE observations ADD COLUMN category TEXT;
ALTER TABLE observations ADD COLUMN client TEXT;
-- SQLite cannot change a primary key in place: rebuild totals keyed by (vantage, name).
CREATE TABLE totals_v2 (
    vantage TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (vantage, name)
);
INSERT INTO totals_v2 (vantage, name, value) SELECT '', name, value FROM totals;
DROP TABLE totals;
ALTER TABLE totals_v2 RENAME TO totals;
