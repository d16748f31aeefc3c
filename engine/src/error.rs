//! Errors as data: who has to act (the operator's input, the infrastructure, or us), and where
//! the problem is (a setting, a file, a column, a table, a value), so that callers and tests
//! match on kinds, never on message text. The message is for people: it names the same place and
//! says what to do.

use std::fmt;

/// Why a run failed. The kind decides the process exit code (see [`Error::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong. Re-running will not help; fixing the input will.
    #[error("{message}")]
    Input { problem: Problem, message: String },
    /// Something the engine depends on failed: PostgreSQL or S3 unreachable, a query refused, a
    /// disk error. Re-running may help once it is back.
    #[error("{message}")]
    Infrastructure { service: Service, message: String },
    /// The engine broke one of its own rules: a bug to report, whatever the input.
    #[error("internal error (a bug in ocp-engine, please report it): {0}")]
    Internal(String),
}

/// What is wrong with the input, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A flag, environment variable or config-file key, named as the config file names it
    /// (`source.source_uuid`, `postgres.schema`, `--out`).
    Setting(String),
    /// A file that cannot be read as what it should be (a config file, a Parquet file).
    File(String),
    /// A column missing from, mistyped in, or holding a value koku cannot have in, a file.
    Column { file: String, column: String },
    /// A table of koku's database the run needs and does not find (`schema.table`).
    Table(String),
    /// The month holds no daily data of the source at all: nothing in `searched` (the
    /// source, year and month's folder of koku's daily pod table, or that table in PostgreSQL).
    NoData { searched: String },
    /// A computed value koku's column cannot store (a NaN into numeric(33,15)): the column, and
    /// the value as the message prints it (`NaN`, `inf`, `1e40`).
    Value { column: String, value: String },
}

/// What failed under the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    PostgreSql,
    /// S3, MinIO or the local folder read through `object_store`.
    ObjectStore,
    /// The local file system the output is written to.
    FileSystem,
    /// This machine: threads, the async runtime.
    Host,
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::PostgreSql => "PostgreSQL",
            Service::ObjectStore => "object store",
            Service::FileSystem => "file system",
            Service::Host => "host",
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Bad input: `problem`, told by `message`.
    pub fn input(problem: Problem, message: impl Into<String>) -> Self {
        Error::Input {
            problem,
            message: message.into(),
        }
    }

    /// A bad setting (flag, variable or config key `setting`).
    pub fn setting(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Error::input(Problem::Setting(setting.into()), message)
    }

    /// A bad `column` of `file`.
    pub fn column(
        file: impl Into<String>,
        column: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::input(
            Problem::Column {
                file: file.into(),
                column: column.into(),
            },
            message,
        )
    }

    /// A failure of `service`.
    pub fn infrastructure(service: Service, message: impl Into<String>) -> Self {
        Error::Infrastructure {
            service,
            message: message.into(),
        }
    }

    /// The place a message about `problem` must name (the setting, file, column, table or
    /// folder; for a value, its column and the value), so that a person can act on it.
    pub fn place(problem: &Problem) -> Vec<&str> {
        match problem {
            Problem::Setting(setting) => vec![setting],
            Problem::File(file) => vec![file],
            Problem::Column { file, column } => vec![file, column],
            Problem::Table(table) => vec![table],
            Problem::NoData { searched } => vec![searched],
            Problem::Value { column, value } => vec![column, value],
        }
    }

    /// What is wrong with the input, if that is the kind.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Input { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// The kind, for people: `bad input`, `infrastructure failure`, `internal error`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Input { .. } => "bad input",
            Error::Infrastructure { .. } => "infrastructure failure",
            Error::Internal(_) => "internal error",
        }
    }

    /// Process exit code (docs/operations.md): 2 for bad input, 3 for infrastructure failures,
    /// 1 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } => 2,
            Error::Infrastructure { .. } => 3,
            Error::Internal(_) => 1,
        }
    }
}

impl From<arrow::error::ArrowError> for Error {
    /// The engine checks column types before any Arrow kernel runs, so a kernel's failure is
    /// the engine's own.
    fn from(e: arrow::error::ArrowError) -> Self {
        Error::Internal(format!("an Arrow kernel failed: {e}"))
    }
}
