-- When each observation's listing read the API: its first and its last page.
CREATE OR REPLACE VIEW export_runs AS
SELECT observation_id, observed_on, listing_started_at, listing_finished_at
FROM export_nights;
