//! Connection strings made safe to print: whatever names a PostgreSQL server in a message or a
//! log (settings, the on-prem input, connection errors) goes through here, so no password is
//! ever shown.

/// `url` (a `postgresql://` URL or a libpq key=value string) with any password replaced by
/// `***`, safe to print. A key=value string is shown as what it connects to (host, port, user,
/// database), parsed by libpq's rules; one that does not parse is not shown at all.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return describe_key_value(url);
    };
    // The user info ends at the authority's last `@` (a raw `@` in a password comes before it).
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{}", redact_query_password(tail))
}

/// A key=value connection string as what it connects to, its password (if any) as `***`.
fn describe_key_value(text: &str) -> String {
    let Ok(config) = text.parse::<tokio_postgres::Config>() else {
        return "(a key=value connection string that does not parse: not shown, it may hold a \
                password)"
            .to_string();
    };
    let mut parts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => format!("host={name}"),
            tokio_postgres::config::Host::Unix(path) => format!("host={}", path.display()),
        })
        .collect();
    parts.extend(config.get_ports().iter().map(|port| format!("port={port}")));
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    if let Some(dbname) = config.get_dbname() {
        parts.push(format!("dbname={dbname}"));
    }
    if config.get_password().is_some() {
        parts.push("password=***".to_string());
    }
    parts.join(" ")
}

/// Blanks a `password=` query parameter of a URL's path/query part.
fn redact_query_password(rest: &str) -> String {
    let Some((path, query)) = rest.split_once('?') else {
        return rest.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_password_hides_secrets_in_both_url_forms() {
        assert_eq!(
            redact_password("postgresql://koku:s3cret@db:5432/koku"),
            "postgresql://koku:***@db:5432/koku"
        );
        assert_eq!(
            redact_password("host=db user=koku password=s3cret dbname=koku"),
            "host=db user=koku dbname=koku password=***"
        );
        // libpq allows spaces around `=` and quoted values with spaces.
        assert_eq!(
            redact_password("host=db password = s3cret user=koku"),
            "host=db user=koku password=***"
        );
        assert_eq!(
            redact_password("host=db password='two words' port=5433"),
            "host=db port=5433 password=***"
        );
        let unparsable = redact_password("host=db password='s3cret");
        assert!(!unparsable.contains("s3cret"), "{unparsable}");
        // A raw `@` in a URL's password: everything before the host's `@` is hidden.
        assert_eq!(
            redact_password("postgresql://koku:p@ss@db/koku"),
            "postgresql://koku:***@db/koku"
        );
        assert_eq!(
            redact_password("postgresql://koku@db/koku"),
            "postgresql://koku@db/koku"
        );
        // libpq also takes the password as a query parameter.
        assert_eq!(
            redact_password("postgresql://koku@db/koku?sslmode=require&password=s3cret"),
            "postgresql://koku@db/koku?sslmode=require&password=***"
        );
    }
}
