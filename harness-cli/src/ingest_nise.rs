//! `ocp-harness ingest-nise`: nise's OpenShift CSVs converted to koku's Parquet
//! (`ocp_harness::nise_ingest`), plus the `engine.toml` that aggregates them, as `generate`
//! writes one for a synthetic cluster.

use std::path::PathBuf;
use std::time::Instant;

use ocp_harness::nise_ingest::{ingest_nise, EnabledKeys, IngestOptions};
use ocp_harness::scenario::engine_config;
use uuid::Uuid;

#[derive(clap::Args)]
pub struct IngestNiseArgs {
    /// Folder holding nise's CSV files (`nise report ocp ... -w` writes them into the current
    /// folder). Every *.csv directly in it is read; the report type is told from the header,
    /// and vm_usage, gpu_usage and header-only files are skipped.
    #[arg(long, value_name = "DIR")]
    pub csv: PathBuf,

    /// Folder to write into; it plays the root of koku's S3 bucket (DIR/data/parquet/...), and
    /// gets DIR/engine.toml. Created if missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// The cluster id (the value given to nise's --ocp-cluster-id). Default: read from nise's
    /// file names, <Month>-<YYYY>-<cluster id>-ocp_<report>.csv.
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,

    /// The cluster alias (provider name). Default: the cluster id.
    #[arg(long, value_name = "NAME")]
    pub cluster_alias: Option<String>,

    /// The source (provider) UUID, naming the source= partition.
    /// Default: 6795d5e6-951c-4382-a8d3-390515d7ec2d, as for generated clusters.
    #[arg(long, value_name = "UUID")]
    pub source_uuid: Option<Uuid>,

    /// koku's account folder (the tenant schema without `acct`).
    #[arg(long, value_name = "ACCOUNT", default_value = "org1234567")]
    pub account: String,

    /// The month engine.toml covers, YYYY-MM. Default: the only month the CSVs have rows in
    /// (Parquet is written for every month either way).
    #[arg(long, value_name = "YYYY-MM", value_parser = parse_month)]
    pub month: Option<(i32, u32)>,

    /// Label keys enabled in the catalog: `all` (every key in the input, so the labels reach the
    /// summary), `none` (koku's state out of the box: every new key recorded disabled), or a
    /// comma-separated list.
    #[arg(long, value_name = "KEYS", default_value = "all", value_parser = parse_keys)]
    pub enabled_keys: EnabledKeys,

    /// Write into a DIR that already holds a data/ folder (files of the same name are replaced).
    #[arg(long)]
    pub overwrite: bool,
}

fn parse_month(text: &str) -> Result<(i32, u32), String> {
    let bad = || format!("{text:?} is not a month YYYY-MM");
    let (year, month) = text.split_once('-').ok_or_else(bad)?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    if year.to_string().len() != 4 || !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok((year, month))
}

fn parse_keys(text: &str) -> Result<EnabledKeys, String> {
    Ok(match text {
        "all" => EnabledKeys::All,
        "none" | "" => EnabledKeys::None,
        list => EnabledKeys::Listed(
            list.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from)
                .collect(),
        ),
    })
}

/// Converts `args.csv` into `args.out`; prints what it read and wrote.
pub fn run_ingest_nise(args: &IngestNiseArgs) -> Result<(), String> {
    let started = Instant::now();
    let out = &args.out;
    if out.exists() && !out.is_dir() {
        return Err(format!(
            "--out {} exists and is not a folder",
            out.display()
        ));
    }
    if out.join("data").exists() && !args.overwrite {
        return Err(format!(
            "{} already holds a data/ folder; choose an empty folder, or pass --overwrite",
            out.display()
        ));
    }
    let mut options = IngestOptions {
        account: args.account.clone(),
        cluster_id: args.cluster_id.clone(),
        cluster_alias: args.cluster_alias.clone(),
        month: args.month,
        enabled_keys: args.enabled_keys.clone(),
        ..IngestOptions::default()
    };
    if let Some(uuid) = args.source_uuid {
        options.source_uuid = uuid;
    }
    let ingested = ingest_nise(&args.csv, out, &options).map_err(|e| e.to_string())?;
    let config_path = out.join("engine.toml");
    std::fs::write(&config_path, engine_config(&ingested.cluster).to_toml())
        .map_err(|e| format!("cannot write {}: {e}", config_path.display()))?;

    let c = &ingested.cluster;
    println!(
        "Read {} CSV files from {}:",
        ingested.input_files.len(),
        args.csv.display()
    );
    for file in &ingested.input_files {
        println!(
            "  {:<16} {:>8} rows, {} dropped as anomalous: {}",
            file.kind.report_type(),
            file.rows,
            file.anomalous,
            file.path.display()
        );
    }
    for path in &ingested.skipped {
        println!("  skipped (another report, or no rows): {}", path.display());
    }
    println!(
        "  account {}, source {}, cluster {} ({}), {} enabled label keys",
        c.account,
        c.source_uuid,
        c.cluster_id,
        c.cluster_alias,
        c.enabled_tag_keys.len()
    );
    for table in &ingested.written.tables {
        println!(
            "  {:<45} {:>5} files {:>10} rows",
            table.table_name(),
            table.files,
            table.rows
        );
    }
    println!(
        "  engine config: {} (days {}..{})",
        config_path.display(),
        c.first_date(),
        c.last_date()
    );
    println!(
        "Wrote {} files in {:.1} s",
        ingested.written.files(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_keys_parse() {
        assert_eq!(parse_month("2024-02"), Ok((2024, 2)));
        assert!(parse_month("2024-13").is_err());
        assert!(parse_month("24-02").is_err());
        assert_eq!(parse_keys("all"), Ok(EnabledKeys::All));
        assert_eq!(parse_keys("none"), Ok(EnabledKeys::None));
        assert_eq!(
            parse_keys("app, tier"),
            Ok(EnabledKeys::Listed(vec!["app".into(), "tier".into()]))
        );
    }
}
