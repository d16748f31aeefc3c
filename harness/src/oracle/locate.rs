//! Finding (and if need be installing) the pinned DuckDB CLI the embedded oracle runs.
//!
//! Order: the `OCP_DUCKDB` environment variable (a path to a `duckdb` binary) if set; else the
//! project cache `$HOME/.cache/koku-ocp/duckdb-cli-1.5.6/duckdb_cli/duckdb`; else the cache is
//! filled by `python3 -m pip install --target <cache> duckdb-cli==1.5.6` (PyPI's official DuckDB
//! CLI wheel; `just oracle-setup` runs the same command). Any failure names the command to run.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::OracleError;

/// The pinned DuckDB CLI version (PyPI `duckdb-cli`).
pub const DUCKDB_CLI_VERSION: &str = "1.5.6";

/// The environment variable that points at a DuckDB binary to use instead of the cache.
pub const DUCKDB_ENV: &str = "OCP_DUCKDB";

/// The pip install target: `$HOME/.cache/koku-ocp/duckdb-cli-<version>`.
pub fn cache_dir() -> Result<PathBuf, OracleError> {
    let home = std::env::var_os("HOME").ok_or_else(|| {
        OracleError::Setup(format!(
            "HOME is not set, so the DuckDB CLI cache cannot be found; set {DUCKDB_ENV} to a \
             duckdb {DUCKDB_CLI_VERSION} binary"
        ))
    })?;
    Ok(PathBuf::from(home)
        .join(".cache")
        .join("koku-ocp")
        .join(format!("duckdb-cli-{DUCKDB_CLI_VERSION}")))
}

/// Where the wheel puts the binary inside the pip target folder.
pub fn binary_in(cache: &Path) -> PathBuf {
    cache.join("duckdb_cli").join("duckdb")
}

/// The install command, as a person would type it.
pub fn install_command(cache: &Path) -> String {
    format!(
        "python3 -m pip install --target {} duckdb-cli=={DUCKDB_CLI_VERSION}",
        cache.display()
    )
}

/// The DuckDB binary to run: `OCP_DUCKDB`, else the cache, installing it there when missing.
pub fn locate_duckdb() -> Result<PathBuf, OracleError> {
    if let Some(path) = std::env::var_os(DUCKDB_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(OracleError::Setup(format!(
                "{DUCKDB_ENV}={} is not a file; point it at a duckdb binary or unset it",
                path.display()
            )))
        };
    }
    let cache = cache_dir()?;
    let binary = binary_in(&cache);
    if !binary.is_file() {
        install(&cache)?;
    }
    if binary.is_file() {
        Ok(binary)
    } else {
        Err(OracleError::Setup(format!(
            "`{}` finished but {} is missing; remove {} and run `just oracle-setup`",
            install_command(&cache),
            binary.display(),
            cache.display()
        )))
    }
}

/// Runs the pip install into `cache`, passing pip's output through to the terminal.
fn install(cache: &Path) -> Result<(), OracleError> {
    let command = install_command(cache);
    eprintln!("Installing the DuckDB CLI for the oracle: {command}");
    let status = Command::new("python3")
        .args(["-m", "pip", "install", "--target"])
        .arg(cache)
        .arg(format!("duckdb-cli=={DUCKDB_CLI_VERSION}"))
        .status()
        .map_err(|e| {
            OracleError::Setup(format!(
                "cannot run python3 ({e}) to install the DuckDB CLI; install Python 3 with pip \
                 and run `{command}`, or set {DUCKDB_ENV} to a duckdb {DUCKDB_CLI_VERSION} binary"
            ))
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(OracleError::Setup(format!(
            "`{command}` failed ({status}); is pip installed (python3 -m pip --version) and \
             PyPI reachable? Or set {DUCKDB_ENV} to a duckdb {DUCKDB_CLI_VERSION} binary"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_names_the_pinned_wheel_and_target() {
        let cache = Path::new("/home/me/.cache/koku-ocp/duckdb-cli-1.5.6");
        assert_eq!(
            install_command(cache),
            "python3 -m pip install --target /home/me/.cache/koku-ocp/duckdb-cli-1.5.6 \
             duckdb-cli==1.5.6"
        );
        assert_eq!(
            binary_in(cache),
            Path::new("/home/me/.cache/koku-ocp/duckdb-cli-1.5.6/duckdb_cli/duckdb")
        );
    }
}
