//! `ocp-harness generate`: a synthetic cluster written as koku's Parquet files, plus the
//! `engine.toml` that aggregates it with the cluster's own catalog.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::load_onprem::load_into;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use ocp_engine::postgres::connect;
use ocp_engine::resolve::account_of_schema;
use ocp_harness::koku_catalog::write_model_catalog;
use ocp_harness::scenario::engine_config;
use ocp_harness::synth::parquet_writer::REPORT_TYPES;
use ocp_harness::synth::{generate_sized, table_dir, write_cluster, ClusterModel, Scale, Size};

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Cluster size. tiny: 3 nodes, 4 namespaces, 12 pods, 3 days (2026-09-01..03), every pod
    /// every hour, a claim or two and a claimless volume. typical: 50 nodes, 25 namespaces, 500
    /// pods, 30 days (September 2026), with pods that run only part of the month, a few pods
    /// without a node, node and namespace labels that change mid-day, claims in every
    /// namespace, shared, claimless and podless volumes, operator node roles and rows already
    /// in reporting_ocp_nodes. large: 250 nodes, 5000 pods, 30 days, for benchmarks. xl: 1000
    /// nodes, 140000 pods, 30 days (about 83 million hourly pod rows, 3 GB of Parquet), large's
    /// shape otherwise. --nodes, --pods and --days size a cluster between them.
    #[arg(
        long,
        value_name = "SCALE",
        value_parser = scale_parser(),
    )]
    pub scale: Scale,

    #[command(flatten)]
    pub size: SizeArgs,

    /// Random seed. The same scale and seed give exactly the same cluster (same source UUID,
    /// nodes, pods and usage) on every machine; change it for a different cluster.
    #[arg(long, value_name = "N", default_value_t = 42)]
    pub seed: u64,

    /// Folder to write into; it plays the root of koku's S3 bucket (files go to
    /// DIR/data/parquet/{account}/OCP/... and DIR/data/parquet/daily/...). Created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Replace data a previous run wrote in DIR for the same source. Without it, generate refuses
    /// to write into a DIR that already holds a data/ folder.
    #[arg(long)]
    pub overwrite: bool,

    /// Also make the cluster a koku tenant of this database, in the schema --schema: koku's
    /// tables with the cluster's catalog (enabled keys, cost categories, recorded nodes) and its
    /// report period, and the on-prem line-item tables loaded (see `load-onprem`). The Parquet
    /// files then go under the account koku derives from the schema (without a leading acct).
    #[arg(long, value_name = "URL", requires = "schema")]
    pub to_postgres: Option<String>,

    /// The tenant schema for --to-postgres.
    #[arg(long, value_name = "SCHEMA", requires = "to_postgres")]
    pub schema: Option<String>,

    /// The account folder of the Parquet files (and of engine.toml), instead of the one koku
    /// derives from --schema: for a schema whose name cannot be a folder as it is (the engine
    /// then needs --account too).
    #[arg(long, value_name = "ACCOUNT", requires = "schema")]
    pub account: Option<String>,
}

/// The scales `--scale` accepts.
pub fn scale_parser() -> impl TypedValueParser<Value = Scale> {
    PossibleValuesParser::new(["tiny", "typical", "large", "xl"])
        .map(|s| s.parse::<Scale>().expect("listed scale parses"))
}

/// Knobs that size a cluster between the scales: the scale's shape with these replaced.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct SizeArgs {
    /// Nodes instead of the scale's (it keeps its masters and infra nodes, so more than those).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub nodes: Option<u32>,

    /// Pods instead of the scale's (at least one per node and namespace, plus the scale's
    /// pods without a node).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub pods: Option<u32>,

    /// Days of September 2026 instead of the scale's (1 to 30).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub days: Option<u32>,
}

impl SizeArgs {
    /// The overrides as the generator takes them.
    pub fn size(&self) -> Size {
        Size {
            nodes: self.nodes.map(|n| n as usize),
            pods: self.pods.map(|n| n as usize),
            days: self.days,
        }
    }
}

impl GenerateArgs {
    /// Seed 42 of `scale` sized by `size` into `out`, replacing what a previous run wrote
    /// there: the cluster the benches and the default `compare` use.
    pub fn seed_42(scale: Scale, size: SizeArgs, out: PathBuf) -> GenerateArgs {
        GenerateArgs {
            scale,
            size,
            seed: 42,
            out,
            overwrite: true,
            to_postgres: None,
            schema: None,
            account: None,
        }
    }
}

/// Generates the cluster `args` describe into `args.out`; prints what it wrote.
pub fn run_generate(args: &GenerateArgs) -> Result<(), String> {
    let started = Instant::now();
    let size = args.size.size();
    let mut model = generate_sized(args.scale, size, args.seed)?;
    if let Some(schema) = &args.schema {
        // The tenant's files are where koku puts them for that schema (spec §2), unless told.
        model.account = match &args.account {
            Some(account) => account.clone(),
            None => account_of_schema(schema).to_string(),
        };
    }
    let out = &args.out;
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {} exists and is not a folder; pick a folder to write into",
            out.display()
        ));
    }
    if out.join("data").exists() {
        if !args.overwrite {
            return Err(format!(
                "{} already holds a data/ folder; choose an empty folder, or pass --overwrite to \
                 replace this source's files",
                out.display()
            ));
        }
        remove_previous(&model, out)?;
    }
    std::fs::create_dir_all(out)
        .map_err(|e| format!("cannot create output folder {}: {e}", out.display()))?;

    let written = write_cluster(&model, out).map_err(|e| e.to_string())?;
    let config_path = out.join("engine.toml");
    std::fs::write(&config_path, engine_config(&model).to_toml())
        .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;

    let nodeless = model.pods.iter().filter(|p| p.node.is_empty()).count();
    println!(
        "Generated {} cluster (seed {}): {} nodes, {} namespaces, {} pods ({} without a node), {}..{}",
        size.label(args.scale),
        args.seed,
        model.nodes.len(),
        model.namespaces.len(),
        model.pods.len(),
        nodeless,
        model.first_date(),
        model.last_date(),
    );
    println!(
        "  account {}, source {}, cluster {}",
        model.account, model.source_uuid, model.cluster_id
    );
    for table in &written.tables {
        println!(
            "  {:<45} {:>5} files {:>10} rows",
            table.table_name(),
            table.files,
            table.rows
        );
    }
    println!("  engine config: {}", config_path.display());
    println!(
        "Wrote {} files in {:.1} s",
        written.files(),
        started.elapsed().as_secs_f64()
    );
    if let (Some(url), Some(schema)) = (&args.to_postgres, &args.schema) {
        load_into(url, schema, out, &model.account)?;
        write_catalog(url, schema, &model)?;
    }
    Ok(())
}

/// koku's tables in `schema` at `url` holding the model's catalog and report period
/// ([`write_model_catalog`]), as the tenant has them when koku's summary step starts.
fn write_catalog(url: &str, schema: &str, model: &ClusterModel) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("no async runtime: {e}"))?;
    let report_period = runtime.block_on(async {
        let client = connect(url).await.map_err(|e| e.to_string())?;
        write_model_catalog(&client, schema, model)
            .await
            .map_err(|e| format!("cannot write koku's catalog into schema {schema}: {e}"))
    })?;
    println!(
        "Wrote the cluster's catalog into koku's tables of schema {schema}: {} enabled keys, {} \
         cost-category patterns, {} recorded nodes, report period {report_period}",
        model.enabled_tag_keys.len(),
        model.cost_category_patterns.len(),
        model.existing_nodes.len(),
    );
    Ok(())
}

/// Deletes the `source=` folders this model writes to (hourly and daily, each report type).
fn remove_previous(model: &ClusterModel, out: &Path) -> Result<(), String> {
    for report_type in REPORT_TYPES {
        for daily in [false, true] {
            let month_dir = table_dir(
                out,
                &model.account,
                &model.source_uuid,
                report_type,
                daily,
                model.year,
                model.month,
            );
            let source_dir = month_dir
                .parent()
                .and_then(Path::parent)
                .expect("table_dir ends in source=/year=/month=");
            if source_dir.exists() {
                std::fs::remove_dir_all(source_dir).map_err(|e| {
                    format!("cannot remove previous data {}: {e}", source_dir.display())
                })?;
            }
        }
    }
    Ok(())
}
