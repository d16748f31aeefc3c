//! Errors, sorted by who has to act: the operator's input, or the infrastructure.

/// Why a run failed. The split decides the process exit code (see [`Error::exit_code`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong: a missing or mistyped column, an unparsable label, no pod-usage
    /// files, a bad flag or config value. Re-running will not help; fixing the input will.
    #[error("{0}")]
    Input(String),
    /// Something we depend on failed: PostgreSQL or S3 unreachable, a query refused, a disk
    /// error. Re-running may help once the infrastructure is back.
    #[error("{0}")]
    Infrastructure(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input(message.into())
    }

    pub fn infrastructure(message: impl Into<String>) -> Self {
        Error::Infrastructure(message.into())
    }

    /// Process exit code: 2 for bad input, 3 for infrastructure failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            Error::Infrastructure(_) => 3,
        }
    }
}

impl From<arrow::error::ArrowError> for Error {
    /// Arrow kernels fail on data they cannot process (the engine checks types first), so an
    /// Arrow error is reported as bad input.
    fn from(e: arrow::error::ArrowError) -> Self {
        Error::Input(format!("cannot process the data: {e}"))
    }
}
