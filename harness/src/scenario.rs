//! A cluster model as the engine sees it: the model written as koku's Parquet into a folder, and
//! the engine configuration and request that aggregate it with the model's own catalog (enabled
//! tag keys, cost-category patterns) given inline.
//!
//! `ocp-harness generate` uses [`engine_config`] for the `engine.toml` it writes; tests and the
//! benchmark use [`Scenario`] to run the engine in-process on a hand-built or generated model.

use std::path::{Path, PathBuf};

use ocp_engine::config::{
    ConfigFile, CostCategoryPattern, InlineCatalog, PeriodSection, SourceSection,
};
use ocp_engine::error::Result as EngineResult;
use ocp_engine::run::{run, CatalogSource, Output, RunReport, RunRequest, DEFAULT_MONTH_LOCK_WAIT};
use ocp_engine::source::{S3Settings, ScanProgress};

use crate::oracle::QueryParams;
use crate::synth::{write_cluster, ClusterModel, Result as SynthResult};

/// `reporting_ocpusagereportperiod.id` the embedded default and the tests give their rows.
pub const REPORT_PERIOD_ID: i32 = 1;

/// The model's catalog: its enabled tag keys, cost-category patterns and the rows already in
/// `reporting_ocp_nodes` ([`ClusterModel::existing_nodes`]).
pub fn inline_catalog(model: &ClusterModel) -> InlineCatalog {
    InlineCatalog {
        enabled_tag_keys: model.enabled_tag_keys.clone(),
        cost_category_namespaces: model
            .cost_category_patterns
            .iter()
            .map(|(pattern, id)| CostCategoryPattern {
                pattern: pattern.clone(),
                cost_category_id: *id,
            })
            .collect(),
        nodes: model.existing_nodes.clone(),
    }
}

/// An engine config that reads the model's files from the config's own folder (`location = "."`)
/// for the model's whole date range, with the catalog inline and report period
/// [`REPORT_PERIOD_ID`].
pub fn engine_config(model: &ClusterModel) -> ConfigFile {
    ConfigFile {
        source: SourceSection {
            location: Some(".".to_string()),
            account: Some(model.account.clone()),
            source_uuid: Some(model.source_uuid.to_string()),
            ..Default::default()
        },
        period: PeriodSection {
            start: Some(model.first_date().format("%Y-%m-%d").to_string()),
            end: Some(model.last_date().format("%Y-%m-%d").to_string()),
            report_period_id: Some(REPORT_PERIOD_ID),
            cluster_id: Some(model.cluster_id.clone()),
            cluster_alias: Some(model.cluster_alias.clone()),
        },
        catalog: Some(inline_catalog(model)),
        ..Default::default()
    }
}

/// The engine request for the model's whole date range, reading `location` (a folder or an
/// `s3://` URL holding the model's files), with the catalog inline and the rows written to
/// `output`. Callers change fields (dates, catalog, output, postgres) as a case needs.
pub fn engine_request(model: &ClusterModel, location: &str, output: Output) -> RunRequest {
    RunRequest {
        location: location.to_string(),
        s3: S3Settings::default(),
        account: model.account.clone(),
        source_uuid: model.source_uuid,
        start: model.first_date(),
        end: model.last_date(),
        report_period_id: Some(REPORT_PERIOD_ID),
        cluster_id: Some(model.cluster_id.clone()),
        cluster_alias: Some(model.cluster_alias.clone()),
        catalog: CatalogSource::Inline(inline_catalog(model)),
        postgres: None,
        output,
        compatibility: Default::default(),
        month_lock_wait: DEFAULT_MONTH_LOCK_WAIT,
        keep_rows: true,
    }
}

/// A model written as koku's Parquet into a temporary folder, removed on drop.
pub struct Scenario {
    pub model: ClusterModel,
    dir: tempfile::TempDir,
}

impl Scenario {
    /// Writes `model`'s Parquet files into a fresh temporary folder.
    pub fn write(model: ClusterModel) -> SynthResult<Scenario> {
        let dir = tempfile::Builder::new()
            .prefix("ocp-scenario-")
            .tempdir()
            .map_err(|source| crate::synth::SynthError::Io {
                action: "create a temporary folder in",
                path: std::env::temp_dir(),
                source,
            })?;
        write_cluster(&model, dir.path())?;
        Ok(Scenario { model, dir })
    }

    /// The folder holding koku's `data/` tree.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the scenario's folder (for output files).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The request that aggregates the whole model from the folder into `summary.parquet`.
    pub fn request(&self) -> RunRequest {
        let location = self.root().to_string_lossy().into_owned();
        engine_request(
            &self.model,
            &location,
            Output::File(self.path("summary.parquet")),
        )
    }

    /// The oracle's parameters of [`Scenario::request`]: the model over its whole date range,
    /// its folder and inline catalog.
    pub fn query_params(&self) -> QueryParams {
        QueryParams::from_request(&self.request())
            .expect("a scenario reads a local folder with an inline catalog")
    }

    /// Runs the engine on [`Scenario::request`] without a progress bar.
    pub async fn run(&self) -> EngineResult<RunReport> {
        run_quietly(&self.request()).await
    }
}

/// Runs `request` with a hidden progress bar.
pub async fn run_quietly(request: &RunRequest) -> EngineResult<RunReport> {
    run(request, &ScanProgress::hidden()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{generate, Scale};

    #[test]
    fn engine_toml_carries_the_existing_nodes() {
        let model = generate(Scale::Typical, 42);
        assert_eq!(model.existing_nodes.len(), 3);
        let text = engine_config(&model).to_toml();
        let back: ConfigFile = toml::from_str(&text).expect("engine.toml parses");
        let catalog = back.catalog.expect("an inline catalog");
        assert_eq!(catalog.nodes, model.existing_nodes);
        assert_eq!(catalog.enabled_tag_keys, model.enabled_tag_keys);
    }

    #[test]
    fn from_request_takes_a_local_folder_and_an_inline_catalog() {
        use ocp_engine::compat::Compatibility;
        use ocp_engine::config::NodeRecord;
        use ocp_engine::run::Output;
        use std::path::PathBuf;

        let model = generate(Scale::Tiny, 1);
        let output = Output::File("out.parquet".into());
        let request = engine_request(&model, "file:///data/tiny", output.clone());
        let p = QueryParams::from_request(&request).unwrap();
        assert_eq!(p.location, PathBuf::from("/data/tiny"));
        assert_eq!(
            (p.year(), p.month()),
            ("2026".to_string(), "09".to_string())
        );
        assert_eq!(p.enabled_tag_keys, model.enabled_tag_keys);
        assert_eq!(p.cost_category_patterns, model.cost_category_patterns);
        assert_eq!(p.compatibility, Compatibility::Trino);

        let mut postgres = engine_request(&model, "/data", output.clone());
        postgres.compatibility = Compatibility::Postgres;
        let node = NodeRecord {
            node: "n1".into(),
            resource_id: Some("i-1".into()),
            node_capacity_cpu_cores: Some(4.0),
            cluster_id: Some("other".into()),
            node_role: Some("infra".into()),
        };
        if let CatalogSource::Inline(catalog) = &mut postgres.catalog {
            catalog.nodes = vec![node.clone()];
        }
        let p = QueryParams::from_request(&postgres).unwrap();
        assert_eq!(p.compatibility, Compatibility::Postgres);
        assert_eq!(p.nodes, [node]);

        let s3 = engine_request(&model, "s3://bucket", output.clone());
        assert!(QueryParams::from_request(&s3).is_err());
        let mut from_postgres = engine_request(&model, "/data", output);
        from_postgres.catalog = CatalogSource::Postgres;
        assert!(QueryParams::from_request(&from_postgres).is_err());
    }

    #[test]
    fn engine_config_round_trips_through_the_engine_loader() {
        let model = generate(Scale::Tiny, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.toml");
        std::fs::write(&path, engine_config(&model).to_toml()).unwrap();
        let loaded = ocp_engine::config::ConfigFile::load(&path).unwrap();
        // location "." resolves against the config's folder.
        let location = loaded.source.location.clone().unwrap();
        assert_eq!(Path::new(&location), dir.path().join("."));
        assert_eq!(loaded.period.start.as_deref(), Some("2026-09-01"));
        assert_eq!(loaded.period.end.as_deref(), Some("2026-09-03"));
        assert_eq!(loaded.period.report_period_id, Some(1));
        let catalog = loaded.catalog.unwrap();
        assert_eq!(catalog.enabled_tag_keys, ["app", "environment", "team"]);
        assert_eq!(catalog.cost_category_namespaces.len(), 4);
        assert_eq!(catalog.cost_category_namespaces[0].pattern, "openshift-%");
    }
}
