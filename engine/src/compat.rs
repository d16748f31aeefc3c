//! Which of koku's two daily-summary scripts the engine reproduces (spec §9.3).
//!
//! koku runs the summary on Trino (SaaS) and, on-prem, as a PostgreSQL port of the same script.
//! The two agree except in a handful of NULL, empty-key and rounding cases. The engine reproduces
//! Trino by default; [`Compatibility::Postgres`] reproduces the port, so that a site can validate
//! against whichever koku it runs. Every place that differs asks this value, never a global.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The koku variant whose results the engine reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compatibility {
    /// koku's Trino SQL (`trino_sql/openshift/reporting_ocpusagelineitem_daily_summary.sql`).
    #[default]
    Trino,
    /// koku's on-prem PostgreSQL port (`self_hosted_sql/...`), spec §9.3.
    Postgres,
}

impl Compatibility {
    pub const ALL: [Compatibility; 2] = [Compatibility::Trino, Compatibility::Postgres];

    /// SQL's `greatest(a, b)` of two nullable doubles as the variant computes it: Trino's is NULL
    /// when either argument is NULL, PostgreSQL's ignores NULLs (spec §7 item 4, §9.3).
    ///
    /// ```
    /// use ocp_engine::compat::Compatibility::{Postgres, Trino};
    /// assert_eq!(Trino.greatest(Some(7.0), Some(9.0)), Some(9.0));
    /// assert_eq!(Trino.greatest(Some(7.0), None), None);
    /// assert_eq!(Postgres.greatest(Some(7.0), None), Some(7.0));
    /// assert_eq!(Postgres.greatest(None, None), None);
    /// ```
    pub fn greatest(self, a: Option<f64>, b: Option<f64>) -> Option<f64> {
        match (a, b, self) {
            (Some(a), Some(b), _) => Some(a.max(b)),
            (a, b, Compatibility::Postgres) => a.or(b),
            (_, _, Compatibility::Trino) => None,
        }
    }

    /// The name used in config files, flags and the run record.
    pub fn as_str(&self) -> &'static str {
        match self {
            Compatibility::Trino => "trino",
            Compatibility::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Compatibility {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Compatibility {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "trino" => Ok(Compatibility::Trino),
            "postgres" => Ok(Compatibility::Postgres),
            other => Err(format!(
                "unknown compatibility {other:?}: use \"trino\" (koku's Trino SQL, the default) \
                 or \"postgres\" (koku's on-prem PostgreSQL port)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Compatibility::ALL {
            assert_eq!(c.as_str().parse::<Compatibility>(), Ok(c));
        }
        assert!("Trino".parse::<Compatibility>().is_err());
        assert_eq!(Compatibility::default(), Compatibility::Trino);
    }
}
