//! `ocp-harness`: tools around ocp-engine. `generate` writes a synthetic OpenShift cluster as the
//! Parquet files koku would hold for it, plus an engine config file pointing at them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use ocp_engine::config::{
    ConfigFile, CostCategoryPattern, InlineCatalog, PeriodSection, SourceSection,
};
use ocp_harness::synth::parquet_writer::{NAMESPACE_LABELS, NODE_LABELS, POD_USAGE};
use ocp_harness::synth::{generate, table_dir, write_cluster, ClusterModel, Scale};

#[derive(Parser)]
#[command(
    name = "ocp-harness",
    version,
    about = "Synthetic koku data and checks for ocp-engine",
    long_about = "Synthetic koku data and checks for ocp-engine, the Trino-free replacement of \
                  koku's OpenShift daily summary (reporting_ocpusagelineitem_daily_summary)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic OpenShift cluster as koku's Parquet files, plus an engine.toml.
    #[command(
        long_about = "Write a synthetic OpenShift cluster as the Parquet files koku's \
        MASU processor would have written to S3 after ingesting the cost-management-metrics-operator's \
        daily reports: pod usage, node labels and namespace labels, hourly and daily tables, one \
        file per day, under DIR/data/parquet/... exactly as in koku's bucket. Also writes \
        DIR/engine.toml, an ocp-engine config that reads those files (source location \".\"), with \
        the cluster's enabled tag keys and cost-category namespaces inline, so `ocp-engine \
        --config DIR/engine.toml` needs no PostgreSQL catalog."
    )]
    Generate(GenerateArgs),
}

#[derive(clap::Args)]
struct GenerateArgs {
    /// Cluster size. tiny: 3 nodes, 4 namespaces, 12 pods, 3 days (2026-09-01..03), every pod
    /// every hour. typical: 50 nodes, 25 namespaces, 500 pods, 30 days (September 2026), with
    /// pods that run only part of the month, a few pods without a node, and node and namespace
    /// labels that change mid-day. large: 250 nodes, 5000 pods, 30 days, for benchmarks.
    #[arg(
        long,
        value_name = "SCALE",
        value_parser = PossibleValuesParser::new(["tiny", "typical", "large"])
            .map(|s| s.parse::<Scale>().expect("listed scale parses")),
    )]
    scale: Scale,

    /// Random seed. The same scale and seed give exactly the same cluster (same source UUID,
    /// nodes, pods and usage) on every machine; change it for a different cluster.
    #[arg(long, value_name = "N", default_value_t = 42)]
    seed: u64,

    /// Folder to write into; it plays the root of koku's S3 bucket (files go to
    /// DIR/data/parquet/{account}/OCP/... and DIR/data/parquet/daily/...). Created if missing.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Replace data a previous run wrote in DIR for the same source. Without it, generate refuses
    /// to write into a DIR that already holds a data/ folder.
    #[arg(long)]
    overwrite: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => run_generate(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run_generate(args: &GenerateArgs) -> Result<(), String> {
    let started = Instant::now();
    let model = generate(args.scale, args.seed);
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
        args.scale,
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
    Ok(())
}

/// Deletes the `source=` folders this model writes to (hourly and daily, each report type).
fn remove_previous(model: &ClusterModel, out: &Path) -> Result<(), String> {
    for report_type in [POD_USAGE, NODE_LABELS, NAMESPACE_LABELS] {
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

/// The engine config for the generated cluster; `source.location` is the config's own folder.
fn engine_config(model: &ClusterModel) -> ConfigFile {
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
            report_period_id: Some(1),
            cluster_id: Some(model.cluster_id.clone()),
            cluster_alias: Some(model.cluster_alias.clone()),
        },
        catalog: Some(InlineCatalog {
            enabled_tag_keys: model.enabled_tag_keys.clone(),
            cost_category_namespaces: model
                .cost_category_patterns
                .iter()
                .map(|(pattern, id)| CostCategoryPattern {
                    pattern: pattern.clone(),
                    cost_category_id: *id,
                })
                .collect(),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_config_round_trips_through_the_engine_loader() {
        let model = generate(Scale::Tiny, 5);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.toml");
        std::fs::write(&path, engine_config(&model).to_toml()).unwrap();
        let loaded = ConfigFile::load(&path).unwrap();
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
