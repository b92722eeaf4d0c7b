-- Vantage points: every crawl names the crawler that made it; counters are kept per vantage. Rows written before
-- this migration belong to the unnamed vantage ''.
ALTER TABLE crawls ADD COLUMN vantage TEXT NOT NULL DEFAULT '';
-- /api/snapshot?vantage= and the latest crawl of every vantage: the newest successful crawl per vantage.
CREATE INDEX crawls_vantage_success ON crawls (vantage, id) WHERE result = 'success';
ALTER TABLE observations ADD COLUMN category TEXT, ADD COLUMN client TEXT;
ALTER TABLE totals ADD COLUMN vantage TEXT NOT NULL DEFAULT '';
ALTER TABLE totals DROP CONSTRAINT totals_pkey;
ALTER TABLE totals ADD PRIMARY KEY (vantage, name);
