-- The file list pages a project's files ORDER BY created_at DESC, id DESC. Without the id tie-breaker
-- in the index no page could be read from it in that order, so every page past the first scanned and
-- sorted all of the project's files: on 10 000 files the last page's SQL took 6 ms, 3 ms with this index.
-- A plain CREATE INDEX blocks writes to files while it builds, well under a second for 100 000 files.
DROP INDEX files_project_idx;
CREATE INDEX files_project_idx ON files (project_id, created_at DESC, id DESC);
