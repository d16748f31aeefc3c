-- The koku tables ocp-engine reads and writes, in one tenant schema.
--
-- Column names and types follow koku's Django models (reporting/provider/ocp/models.py and
-- reporting/models.py); see docs/semantics.md and the spec, sections 2.4 and 4. Only the columns
-- the daily-summary step touches, plus the ones its DELETE tests (infrastructure_raw_cost), are
-- guaranteed to match koku; the rest are present so rows look like koku's to a reader.
--
-- `{schema}` is replaced by the quoted schema identifier before this text runs. Every statement is
-- idempotent (IF NOT EXISTS), so a site that already has koku's tables can run it harmlessly.

CREATE SCHEMA IF NOT EXISTS {schema};

CREATE TABLE IF NOT EXISTS {schema}.reporting_enabledtagkeys (
    uuid uuid PRIMARY KEY,
    key varchar(512) NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    provider_type varchar(50) NOT NULL,
    UNIQUE (key, provider_type)
);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocp_cost_category (
    id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    description text NOT NULL DEFAULT '',
    source_type text NOT NULL DEFAULT 'OCP',
    system_default boolean NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocp_cost_category_namespace (
    id serial PRIMARY KEY,
    namespace text NOT NULL UNIQUE,
    system_default boolean NOT NULL DEFAULT false,
    cost_category_id integer NOT NULL REFERENCES {schema}.reporting_ocp_cost_category (id)
);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocpusagereportperiod (
    id serial PRIMARY KEY,
    cluster_id varchar(50) NOT NULL,
    cluster_alias varchar(256),
    report_period_start timestamptz NOT NULL,
    report_period_end timestamptz NOT NULL,
    summary_data_creation_datetime timestamptz,
    summary_data_updated_datetime timestamptz,
    derived_cost_datetime timestamptz,
    ocp_on_cloud_updated_datetime timestamptz,
    provider_id uuid NOT NULL,
    UNIQUE (cluster_id, report_period_start, provider_id)
);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocp_clusters (
    uuid uuid PRIMARY KEY,
    cluster_id text NOT NULL,
    cluster_alias text,
    provider_id uuid
);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocp_nodes (
    uuid uuid PRIMARY KEY,
    node text NOT NULL,
    resource_id text,
    node_capacity_cpu_cores numeric(18, 2),
    node_role text,
    architecture text,
    cluster_id uuid REFERENCES {schema}.reporting_ocp_clusters (uuid)
);

-- Range-partitioned by usage_start like koku's table; koku creates monthly partitions
-- (_YYYY_MM) through its partition manager, the default partition catches everything else.
CREATE TABLE IF NOT EXISTS {schema}.reporting_ocpusagelineitem_daily_summary (
    uuid uuid NOT NULL,
    report_period_id integer,
    cluster_id varchar(50),
    cluster_alias varchar(256),
    data_source varchar(64),
    usage_start date NOT NULL,
    usage_end date NOT NULL,
    namespace varchar(253),
    node varchar(253),
    resource_id varchar(253),
    pod_labels jsonb,
    pod_usage_cpu_core_hours numeric(33, 15),
    pod_request_cpu_core_hours numeric(33, 15),
    pod_effective_usage_cpu_core_hours numeric(33, 15),
    pod_limit_cpu_core_hours numeric(33, 15),
    pod_usage_memory_gigabyte_hours numeric(33, 15),
    pod_request_memory_gigabyte_hours numeric(33, 15),
    pod_effective_usage_memory_gigabyte_hours numeric(33, 15),
    pod_limit_memory_gigabyte_hours numeric(33, 15),
    node_capacity_cpu_cores numeric(33, 15),
    node_capacity_cpu_core_hours numeric(33, 15),
    node_capacity_memory_gigabytes numeric(33, 15),
    node_capacity_memory_gigabyte_hours numeric(33, 15),
    cluster_capacity_cpu_core_hours numeric(33, 15),
    cluster_capacity_memory_gigabyte_hours numeric(33, 15),
    persistentvolumeclaim varchar(253),
    persistentvolume varchar(253),
    storageclass varchar(50),
    volume_labels jsonb,
    all_labels jsonb,
    persistentvolumeclaim_capacity_gigabyte numeric(33, 15),
    persistentvolumeclaim_capacity_gigabyte_months numeric(33, 15),
    volume_request_storage_gigabyte_months numeric(33, 15),
    persistentvolumeclaim_usage_gigabyte_months numeric(33, 15),
    source_uuid uuid,
    infrastructure_usage_cost jsonb,
    infrastructure_raw_cost numeric(33, 15),
    infrastructure_project_raw_cost numeric(33, 15),
    infrastructure_data_in_gigabytes numeric(33, 15),
    infrastructure_data_out_gigabytes numeric(33, 15),
    infrastructure_markup_cost numeric(33, 15),
    infrastructure_project_markup_cost numeric(33, 15),
    infrastructure_monthly_cost numeric(33, 15),
    infrastructure_monthly_cost_json jsonb,
    infrastructure_project_monthly_cost jsonb,
    supplementary_usage_cost jsonb,
    supplementary_monthly_cost numeric(33, 15),
    supplementary_monthly_cost_json jsonb,
    supplementary_project_monthly_cost jsonb,
    distributed_cost numeric(33, 15),
    cost_model_cpu_cost numeric(33, 15),
    cost_model_memory_cost numeric(33, 15),
    cost_model_volume_cost numeric(33, 15),
    cost_model_gpu_cost numeric(33, 15),
    cost_model_rate_type text,
    monthly_cost_type text,
    raw_currency text,
    cost_category_id integer,
    PRIMARY KEY (uuid, usage_start)
) PARTITION BY RANGE (usage_start);

CREATE TABLE IF NOT EXISTS {schema}.reporting_ocpusagelineitem_daily_summary_default
    PARTITION OF {schema}.reporting_ocpusagelineitem_daily_summary DEFAULT;

CREATE INDEX IF NOT EXISTS ocpusagelineitem_daily_summary_usage_start
    ON {schema}.reporting_ocpusagelineitem_daily_summary (usage_start);
CREATE INDEX IF NOT EXISTS ocpusagelineitem_daily_summary_report_period
    ON {schema}.reporting_ocpusagelineitem_daily_summary (report_period_id);
