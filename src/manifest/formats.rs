//! Formats of scalar values shared by options, settings and établissements:
//! URL, e-mail, hostname, UAI, duration.

/// Letters used for the UAI check letter (no I, O, Q).
pub const UAI_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// Checks a UAI (the national identifier of an établissement): 7 digits and
/// the check letter `UAI_LETTERS[number mod 23]`.
pub fn check_uai(s: &str) -> Result<(), String> {
    let bytes = s.as_bytes();
    if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "`{s}` is not a UAI: expected 7 digits and a check letter, like `0750655E`"
        ));
    }
    let number: u32 = s[..7].parse().map_err(|_| format!("`{s}` is not a UAI"))?;
    let expected = UAI_LETTERS[(number % 23) as usize] as char;
    let found = bytes[7] as char;
    if found != expected {
        return Err(format!(
            "UAI `{s}` has check letter `{found}`, but {number:07} mod 23 = {} gives `{expected}`",
            number % 23
        ));
    }
    Ok(())
}

pub fn check_url(s: &str) -> Result<(), String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("`{s}` is not an http(s) URL: it must start with https:// or http://")
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') || h.starts_with('[') => {
            if !port.chars().all(|c| c.is_ascii_digit()) || port.is_empty() {
                return Err(format!("`{s}` has an invalid port `{port}`"));
            }
            h
        }
        _ => host,
    };
    if host.starts_with('[') && host.ends_with(']') {
        return Ok(());
    }
    check_hostname(&host.to_ascii_lowercase()).map_err(|e| format!("`{s}`: {e}"))?;
    if s.chars().any(char::is_whitespace) {
        return Err(format!("`{s}` contains white space"));
    }
    Ok(())
}

/// A URL for a source repository: http(s), ssh:// or git@host:path.
pub fn check_repository_url(s: &str) -> Result<(), String> {
    if let Some(rest) = s
        .strip_prefix("ssh://")
        .or_else(|| s.strip_prefix("git://"))
    {
        return check_url(&format!("https://{rest}"));
    }
    if let Some(rest) = s.strip_prefix("git@") {
        let (host, path) = rest
            .split_once(':')
            .ok_or_else(|| format!("`{s}` is not `git@host:path`"))?;
        check_hostname(host)?;
        if path.is_empty() {
            return Err(format!("`{s}` has no path"));
        }
        return Ok(());
    }
    check_url(s)
}

pub fn check_email(s: &str) -> Result<(), String> {
    let (local, domain) = s
        .split_once('@')
        .ok_or_else(|| format!("`{s}` is not an e-mail address (no `@`)"))?;
    if local.is_empty() || local.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(format!("`{s}` is not an e-mail address"));
    }
    if !domain.contains('.') {
        return Err(format!("`{s}`: the domain `{domain}` has no dot"));
    }
    check_hostname(&domain.to_ascii_lowercase()).map_err(|e| format!("`{s}`: {e}"))
}

/// RFC 1123 host name, lowercase.
pub fn check_hostname(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 253 {
        return Err(format!("`{s}` is not a host name (1 to 253 characters)"));
    }
    for label in s.trim_end_matches('.').split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!(
                "`{s}` is not a host name: label `{label}` must be 1-63 lowercase letters, digits or '-'"
            ));
        }
    }
    Ok(())
}

/// `30s`, `15m`, `1h30m`, `7d` → seconds.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let err = || format!("`{s}` is not a duration: write it like `30s`, `15m`, `1h30m` or `7d`");
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut last_rank = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let (rank, unit) = match c {
            'd' => (1, 86_400),
            'h' => (2, 3_600),
            'm' => (3, 60),
            's' => (4, 1),
            _ => return Err(err()),
        };
        if number.is_empty() || rank <= last_rank {
            return Err(err());
        }
        let n: u64 = number.parse().map_err(|_| err())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(err)?;
        number.clear();
        last_rank = rank;
    }
    if !number.is_empty() {
        return Err(err());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uai_check_letter() {
        assert!(check_uai("0750655E").is_ok());
        assert!(check_uai("0440001M").is_ok());
        assert!(check_uai("6200001G").is_ok()); // Corse-du-Sud
        let err = check_uai("0750655F").unwrap_err();
        assert!(err.contains("gives `E`"), "{err}");
        assert!(check_uai("075065E").is_err());
        assert!(check_uai("0750655e").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5400));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        for bad in ["", "10", "m", "30m1h", "1x", "1h1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_hosts_emails() {
        assert!(check_url("https://cas.monlycee.net/cas").is_ok());
        assert!(check_url("http://127.0.0.1:8080/").is_ok());
        assert!(check_url("ftp://x.org").is_err());
        assert!(check_url("https://").is_err());
        assert!(check_hostname("monlycee.net").is_ok());
        assert!(check_hostname("Mon_Lycee.net").is_err());
        assert!(check_email("dane@ac-nantes.fr").is_ok());
        assert!(check_email("dane.ac-nantes.fr").is_err());
        assert!(check_repository_url("git@forge.example.org:openent/x.git").is_ok());
    }
}
