-- ocp-engine's own record of every run that wrote rows: which engine version wrote which
-- source's dates, how many rows of each data_source, and how long each phase took. The engine
-- creates it (IF NOT EXISTS) in the tenant schema, in the same transaction as the rows it records.
-- `{schema}` is replaced by the quoted schema identifier.

CREATE TABLE IF NOT EXISTS {schema}.ocp_engine_runs (
    run_id uuid PRIMARY KEY,
    source_uuid uuid NOT NULL,
    report_period_id integer NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    engine_version text NOT NULL,
    compatibility_mode text NOT NULL,
    rows_deleted bigint NOT NULL,
    rows_per_data_source jsonb NOT NULL,
    phase_seconds jsonb NOT NULL,
    peak_rss_bytes bigint,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL
);
