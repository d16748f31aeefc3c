//! Settings of the oracles that read a site's own servers: the live Trino oracles
//! ([`super::trino`]) and the koku PostgreSQL oracle.
//!
//! They come from three places, the first that sets a value winning:
//! 1. command-line flags (`ocp-harness compare --trino-url …`; never secrets, which would show in
//!    the process list);
//! 2. environment variables (`TRINO_URL`, `TRINO_PASSWORD`, …, [`TrinoSection::from_env`]);
//! 3. the oracle config file (`--oracle-config FILE`, [`OracleConfigFile`]): a TOML file of its
//!    own with `[trino]` and `[koku_postgres]` sections, unknown keys refused. The engine's
//!    config file refuses unknown sections, so these settings never go there.
//!
//! Contracts: a password or token is a [`Secret`], whose `Debug` prints `***`; settings that
//! cannot be used are [`OracleError::Params`] naming the flag, variable and file key to set.

use std::fmt;
use std::path::{Path, PathBuf};

use ocp_engine::config::describe_toml_error;
use serde::Deserialize;

use super::OracleError;

/// A password or token. `Debug` prints `***`; only [`Secret::expose`] gives the text.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret's text, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The oracle config file (`--oracle-config`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OracleConfigFile {
    #[serde(default)]
    pub trino: TrinoSection,
    #[serde(default)]
    pub koku_postgres: KokuPostgresSection,
}

impl OracleConfigFile {
    /// The file at `path`; an unreadable or invalid file is bad input naming the file.
    pub fn load(path: &Path) -> Result<Self, OracleError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            OracleError::Params(format!(
                "cannot read the oracle config file {}: {e}",
                path.display()
            ))
        })?;
        toml::from_str(&text).map_err(|e| {
            OracleError::Params(format!(
                "the oracle config file {} is not valid: {}",
                path.display(),
                describe_toml_error(&text, &e)
            ))
        })
    }
}

/// `[trino]`: how to reach the site's Trino and where koku's tables are in it. Every key is
/// optional here; [`TrinoSettings::resolve`] says which must be set after layering.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrinoSection {
    /// The coordinator, `https://host:port` (or `http://`); no path, no user or password in it.
    pub url: Option<String>,
    /// The Trino user (`X-Trino-User`), also the user of a password.
    pub user: Option<String>,
    /// Password (HTTP Basic). Prefer `TRINO_PASSWORD`.
    pub password: Option<Secret>,
    /// JWT (`Authorization: Bearer`). Prefer `TRINO_JWT`. Not with `password`.
    pub jwt: Option<Secret>,
    /// The catalog holding koku's Hive tables; default `hive`.
    pub hive_catalog: Option<String>,
    /// Their schema; default the tenant schema of the run (`org1234567`, `acct10001`).
    pub hive_schema: Option<String>,
    /// The catalog over koku's PostgreSQL database; default `postgres`.
    pub postgres_catalog: Option<String>,
    /// Its schema holding koku's tables; default the tenant schema of the run.
    pub postgres_schema: Option<String>,
    /// PEM file of the certificate authority that signed Trino's certificate, added to the
    /// system's roots.
    pub ca_file: Option<PathBuf>,
    /// Accept an insecure connection: skip certificate verification on `https`, and allow a
    /// password or token over plain `http`. For test servers only.
    pub insecure: Option<bool>,
}

/// The environment variable of each [`TrinoSection`] key, in the section's order.
pub const TRINO_ENV: [(&str, &str); 10] = [
    ("url", "TRINO_URL"),
    ("user", "TRINO_USER"),
    ("password", "TRINO_PASSWORD"),
    ("jwt", "TRINO_JWT"),
    ("hive_catalog", "TRINO_HIVE_CATALOG"),
    ("hive_schema", "TRINO_HIVE_SCHEMA"),
    ("postgres_catalog", "TRINO_POSTGRES_CATALOG"),
    ("postgres_schema", "TRINO_POSTGRES_SCHEMA"),
    ("ca_file", "TRINO_CA_FILE"),
    ("insecure", "TRINO_INSECURE"),
];

/// The environment variable of `key` in [`TRINO_ENV`].
fn trino_env(key: &str) -> &'static str {
    TRINO_ENV
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .expect("every key has a variable")
}

impl TrinoSection {
    /// The section the environment gives, read through `var` (`std::env::var(..).ok()` in the
    /// command; a map in tests). `TRINO_INSECURE` takes `true`/`false`/`1`/`0`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, OracleError> {
        let text = |key| var(trino_env(key)).filter(|v| !v.is_empty());
        let insecure = match text("insecure") {
            None => None,
            Some(v) => Some(parse_bool(&v).ok_or_else(|| {
                OracleError::Params(format!(
                    "{}={v:?} is not true, false, 1 or 0",
                    trino_env("insecure")
                ))
            })?),
        };
        Ok(TrinoSection {
            url: text("url"),
            user: text("user"),
            password: text("password").map(Secret),
            jwt: text("jwt").map(Secret),
            hive_catalog: text("hive_catalog"),
            hive_schema: text("hive_schema"),
            postgres_catalog: text("postgres_catalog"),
            postgres_schema: text("postgres_schema"),
            ca_file: text("ca_file").map(PathBuf::from),
            insecure,
        })
    }

    /// Each key of `self`, or of `lower` where `self` leaves it unset.
    pub fn or(self, lower: TrinoSection) -> TrinoSection {
        TrinoSection {
            url: self.url.or(lower.url),
            user: self.user.or(lower.user),
            password: self.password.or(lower.password),
            jwt: self.jwt.or(lower.jwt),
            hive_catalog: self.hive_catalog.or(lower.hive_catalog),
            hive_schema: self.hive_schema.or(lower.hive_schema),
            postgres_catalog: self.postgres_catalog.or(lower.postgres_catalog),
            postgres_schema: self.postgres_schema.or(lower.postgres_schema),
            ca_file: self.ca_file.or(lower.ca_file),
            insecure: self.insecure.or(lower.insecure),
        }
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// How the harness proves who it is to Trino.
#[derive(Debug, Clone, PartialEq)]
pub enum TrinoCredential {
    /// HTTP Basic with the settings' user.
    Password(Secret),
    /// `Authorization: Bearer <token>`.
    Jwt(Secret),
}

impl TrinoCredential {
    /// The secret text, for redacting it from messages.
    pub fn secret(&self) -> &Secret {
        match self {
            TrinoCredential::Password(s) | TrinoCredential::Jwt(s) => s,
        }
    }
}

/// Resolved settings of a Trino oracle: everything [`super::trino::TrinoOracle`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct TrinoSettings {
    /// `http(s)://host[:port]`, checked: no path, no user information.
    pub url: String,
    pub user: String,
    pub credential: Option<TrinoCredential>,
    pub hive_catalog: String,
    /// `None`: the run's tenant schema.
    pub hive_schema: Option<String>,
    pub postgres_catalog: String,
    /// `None`: the run's tenant schema.
    pub postgres_schema: Option<String>,
    pub ca_file: Option<PathBuf>,
    pub insecure: bool,
}

impl TrinoSettings {
    /// The settings `section` (flags, then environment, then file, already layered with
    /// [`TrinoSection::or`]) resolves to: `url` and `user` required, at most one of `password`
    /// and `jwt`, catalogs defaulting to `hive` and `postgres`.
    pub fn resolve(section: TrinoSection) -> Result<Self, OracleError> {
        let url = section.url.ok_or_else(|| missing("the Trino URL", "url"))?;
        let user = section
            .user
            .ok_or_else(|| missing("the Trino user", "user"))?;
        let credential =
            match (section.password, section.jwt) {
                (Some(_), Some(_)) => return Err(OracleError::Params(
                    "both a Trino password and a JWT are set: set TRINO_PASSWORD or TRINO_JWT, \
                     not both"
                        .to_string(),
                )),
                (Some(password), None) => Some(TrinoCredential::Password(password)),
                (None, Some(jwt)) => Some(TrinoCredential::Jwt(jwt)),
                (None, None) => None,
            };
        Ok(TrinoSettings {
            url,
            user,
            credential,
            hive_catalog: section.hive_catalog.unwrap_or_else(|| "hive".to_string()),
            hive_schema: section.hive_schema,
            postgres_catalog: section
                .postgres_catalog
                .unwrap_or_else(|| "postgres".to_string()),
            postgres_schema: section.postgres_schema,
            ca_file: section.ca_file,
            insecure: section.insecure.unwrap_or(false),
        })
    }

    /// `text` with the credential's secret replaced by `***`, safe to print.
    pub fn redact(&self, text: &str) -> String {
        match &self.credential {
            Some(credential) if !credential.secret().expose().is_empty() => {
                text.replace(credential.secret().expose(), "***")
            }
            _ => text.to_string(),
        }
    }
}

fn missing(what: &str, key: &str) -> OracleError {
    OracleError::Params(format!(
        "{what} is not set: pass --trino-{}, set {}, or set {key} in the [trino] section of \
         --oracle-config",
        key.replace('_', "-"),
        trino_env(key)
    ))
}

/// `[koku_postgres]`: the PostgreSQL database where koku wrote its summary rows.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KokuPostgresSection {
    /// `postgresql://user@host:port/db`; prefer `KOKU_POSTGRES_URL` when it holds a password.
    pub url: Option<String>,
    /// koku's tenant schema (`org1234567`).
    pub schema: Option<String>,
}

impl KokuPostgresSection {
    /// The section from `KOKU_POSTGRES_URL` and `KOKU_POSTGRES_SCHEMA`, read through `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let text = |name| var(name).filter(|v: &String| !v.is_empty());
        KokuPostgresSection {
            url: text("KOKU_POSTGRES_URL"),
            schema: text("KOKU_POSTGRES_SCHEMA"),
        }
    }

    /// Each key of `self`, or of `lower` where `self` leaves it unset.
    pub fn or(self, lower: KokuPostgresSection) -> KokuPostgresSection {
        KokuPostgresSection {
            url: self.url.or(lower.url),
            schema: self.schema.or(lower.schema),
        }
    }

    /// The URL and schema, both required after layering.
    pub fn resolve(self) -> Result<(String, String), OracleError> {
        let missing = |what: &str, key: &str, var: &str| {
            OracleError::Params(format!(
                "{what} is not set: pass --koku-postgres-{key}, set {var}, set {key} in the \
                 [koku_postgres] section of --oracle-config, or [postgres] {key} in the engine \
                 config"
            ))
        };
        let url = self.url.ok_or_else(|| {
            missing(
                "koku's PostgreSQL URL",
                "url",
                "KOKU_POSTGRES_URL (or OCP_ENGINE_POSTGRES_URL)",
            )
        })?;
        let schema = self
            .schema
            .ok_or_else(|| missing("koku's PostgreSQL schema", "schema", "KOKU_POSTGRES_SCHEMA"))?;
        Ok((url, schema))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_the_file() {
        let file: OracleConfigFile = toml::from_str(
            r#"
            [trino]
            url = "https://file:8443"
            user = "file-user"
            hive_catalog = "lake"
            password = "from-file"
            "#,
        )
        .unwrap();
        let env = TrinoSection::from_env(env(&[
            ("TRINO_USER", "env-user"),
            ("TRINO_PASSWORD", "from-env"),
            ("TRINO_INSECURE", "1"),
        ]))
        .unwrap();
        let flags = TrinoSection {
            url: Some("https://flag:8443".into()),
            ..TrinoSection::default()
        };
        let settings = TrinoSettings::resolve(flags.or(env).or(file.trino)).unwrap();
        assert_eq!(settings.url, "https://flag:8443");
        assert_eq!(settings.user, "env-user");
        assert_eq!(settings.hive_catalog, "lake");
        assert_eq!(settings.postgres_catalog, "postgres");
        assert_eq!(settings.hive_schema, None);
        assert!(settings.insecure);
        assert_eq!(
            settings.credential,
            Some(TrinoCredential::Password(Secret::new("from-env")))
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output_or_redacted_text() {
        let settings = TrinoSettings::resolve(TrinoSection {
            url: Some("https://t".into()),
            user: Some("u".into()),
            jwt: Some(Secret::new("eyJ.secret.token")),
            ..TrinoSection::default()
        })
        .unwrap();
        let debug = format!("{settings:?}");
        assert!(!debug.contains("eyJ.secret.token"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert_eq!(settings.redact("401 for eyJ.secret.token"), "401 for ***");
    }

    #[test]
    fn missing_or_conflicting_settings_say_what_to_set() {
        let error = TrinoSettings::resolve(TrinoSection::default()).unwrap_err();
        let text = error.to_string();
        for part in ["--trino-url", "TRINO_URL", "[trino]"] {
            assert!(text.contains(part), "{text}");
        }
        let both = TrinoSection {
            url: Some("https://t".into()),
            user: Some("u".into()),
            password: Some(Secret::new("p")),
            jwt: Some(Secret::new("j")),
            ..TrinoSection::default()
        };
        assert!(TrinoSettings::resolve(both).is_err());
        assert!(TrinoSection::from_env(env(&[("TRINO_INSECURE", "maybe")])).is_err());
        let unknown = toml::from_str::<OracleConfigFile>("[trino]\nport = 8080\n");
        assert!(unknown.is_err());
    }

    #[test]
    fn koku_postgres_settings_layer_and_require_url_and_schema() {
        let env = KokuPostgresSection::from_env(env(&[("KOKU_POSTGRES_SCHEMA", "org1")]));
        let engine = KokuPostgresSection {
            url: Some("postgresql://db/koku".into()),
            schema: Some("org2".into()),
        };
        assert_eq!(
            KokuPostgresSection::default()
                .or(env)
                .or(engine)
                .resolve()
                .unwrap(),
            ("postgresql://db/koku".to_string(), "org1".to_string())
        );
        let error = KokuPostgresSection::default().resolve().unwrap_err();
        assert!(error.to_string().contains("KOKU_POSTGRES_URL"), "{error}");
    }
}
