-- PostgreSQL's twin of ../0015_jma_skipped.sql: drills and skipped documents are recorded too.
ALTER TABLE jma_reports DROP CONSTRAINT jma_reports_action_check;
ALTER TABLE jma_reports ADD CONSTRAINT jma_reports_action_check
    CHECK (action IN ('started', 'aftershock', 'below', 'elsewhere', 'drill', 'skipped'));
