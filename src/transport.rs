//! The network side of git: clones, reference listings and pushes run the
//! `git` program, as cargo does with `net.git-fetch-with-cli`; everything
//! local (commits, trees, tags, bundles' contents) stays with git2.
//!
//! Why the program rather than git2's own https and ssh: it brings what the
//! user already set up for their forges, for free and unchanged: ssh-agent
//! and `~/.ssh/config`, git's credential helpers, `GIT_ASKPASS`, the system
//! CA store and `http.sslCAInfo`/`GIT_SSL_CAINFO`, proxies; and git2's https
//! and ssh would pull OpenSSL and libssh2 into a build that CI keeps lean.
//!
//! Every run is non-interactive: stdin is closed, `GIT_TERMINAL_PROMPT=0`,
//! and git runs in a session of its own (no controlling terminal), so that
//! neither git nor ssh ever waits on a prompt; a missing credential or an
//! unknown host key is an error that says what to set up. A token from the
//! environment (`OENT_GIT_TOKEN`, else GitLab CI's `CI_JOB_TOKEN`) is given
//! to git through a credential helper reading it from the environment, so
//! it never appears on a command line nor in a URL. URLs holding
//! credentials are refused: oent records upstream URLs (contributions.yaml)
//! and prints them.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The token for https remotes, sent as the password; `OENT_GIT_USERNAME`
/// names the user (default `oauth2`, which GitLab accepts for any token).
pub const TOKEN_ENV: &str = "OENT_GIT_TOKEN";
pub const USERNAME_ENV: &str = "OENT_GIT_USERNAME";
/// GitLab CI's job token, used when no `OENT_GIT_TOKEN` is set, with the
/// user `gitlab-ci-token` GitLab expects for it.
pub const JOB_TOKEN_ENV: &str = "CI_JOB_TOKEN";

/// Answers git's `get` with the user and token oent puts in its environment.
const CREDENTIAL_HELPER: &str = "credential.helper=!f() { test \"$1\" = get || exit 0; \
     echo \"username=$OENT_GIT_CREDENTIAL_USER\"; echo \"password=$OENT_GIT_CREDENTIAL_TOKEN\"; }; f";

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error(
        "`{url}` holds {what}: oent records and prints upstream URLs (contributions.yaml, its messages), so they would leak\nhelp: remove them from the URL and give them the way git does: ssh-agent, a credential helper, GIT_ASKPASS, or {TOKEN_ENV} ({JOB_TOKEN_ENV} in GitLab CI)"
    )]
    Credentials { url: String, what: &'static str },
    #[error("`{url}` is not a repository URL oent passes to git: {reason}")]
    BadUrl { url: String, reason: &'static str },
    #[error(
        "the `git` program does not start ({message}): oent runs it to clone and push over the network\nhelp: install git"
    )]
    NoGit { message: String },
    #[error(
        "{url} refused the credentials ({detail})\nhelp: over https, set {TOKEN_ENV} (and {USERNAME_ENV}) to an access token with write access, or configure a git credential helper or GIT_ASKPASS; in GitLab CI, {JOB_TOKEN_ENV} is used; over ssh, load the key in ssh-agent (`ssh-add`) or name it in ~/.ssh/config; oent never prompts"
    )]
    Authentication { url: String, detail: String },
    #[error(
        "{url}: the server's TLS certificate is not trusted ({detail})\nhelp: if the forge uses its own certificate authority, give its certificate: `GIT_SSL_CAINFO=ca.pem oent …`, or `git config --global http.sslCAInfo ca.pem` (http.<url>.sslCAInfo for this forge only)"
    )]
    Certificate { url: String, detail: String },
    #[error(
        "{url}: the ssh host key of {host} is not known, so the server cannot be told from an impostor{}\nhelp: check that fingerprint with the forge's administrators, then add the key to ~/.ssh/known_hosts (`ssh-keyscan{} {host} >> ~/.ssh/known_hosts`) and run oent again",
        .fingerprints.as_ref().map(|f| format!("; it presents {f}")).unwrap_or_default(),
        .port.as_ref().map(|p| format!(" -p {p}")).unwrap_or_default()
    )]
    HostKey {
        url: String,
        host: String,
        port: Option<String>,
        fingerprints: Option<String>,
    },
    #[error("{what} {url} failed: {detail}")]
    Failed {
        what: &'static str,
        url: String,
        detail: String,
    },
}

/// A reference the server did not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub reference: String,
    pub reason: String,
    /// Not a fast-forward (or the remote has commits this clone lacks):
    /// the client refused it before sending, since oent never forces.
    pub not_fast_forward: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Some references were refused; `remote` is what the server said
    /// (its hooks' output, `remote: …` lines).
    #[error("{}", .rejected.iter().map(|r| format!("{}: {}", r.reference, r.reason)).collect::<Vec<_>>().join("; "))]
    Rejected {
        rejected: Vec<Rejected>,
        remote: Vec<String>,
    },
}

impl PushError {
    /// What the server's hooks printed, indented, or nothing.
    pub fn server_said(&self) -> String {
        match self {
            PushError::Rejected { remote, .. } if !remote.is_empty() => format!(
                "\nthe server said:\n{}",
                remote
                    .iter()
                    .map(|l| format!("  {l}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
            _ => String::new(),
        }
    }
}

/// Refuses a URL holding a password or a token (`https://user:pw@…`,
/// `https://TOKEN@…`), and one git could read as an option.
pub fn check_url(url: &str) -> Result<(), TransportError> {
    if url.starts_with('-') {
        return Err(TransportError::BadUrl {
            url: url.to_owned(),
            reason: "it starts with '-'",
        });
    }
    if url.chars().any(char::is_control) {
        return Err(TransportError::BadUrl {
            url: url.to_owned(),
            reason: "it holds control characters",
        });
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(()); // a path, or ssh's `user@host:path`: a user name only
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Ok(());
    };
    let scheme = scheme.to_ascii_lowercase();
    if userinfo.contains(':') {
        return Err(TransportError::Credentials {
            url: redact(url),
            what: "a password",
        });
    }
    // Over http(s) the user part is where tokens are pasted
    // (`https://glpat-…@host`, `https://oauth2:…@host`); ssh's is a user name.
    if scheme == "http" || scheme == "https" {
        return Err(TransportError::Credentials {
            url: redact(url),
            what: "a user or token",
        });
    }
    Ok(())
}

/// The URL with its user information replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{}", &rest[end..]),
        None => url.to_owned(),
    }
}

/// `git` without prompts, in `dir`, with the environment's token offered
/// for https URLs.
fn git(dir: Option<&Path>, url: &str) -> Command {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe; it only detaches the child from
    // the controlling terminal, so that ssh cannot open /dev/tty to prompt.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    if let Some((user, token)) = token_for(url) {
        // An empty helper first: a token given on purpose wins over stored ones.
        command
            .args(["-c", "credential.helper=", "-c", CREDENTIAL_HELPER])
            .env("OENT_GIT_CREDENTIAL_USER", user)
            .env("OENT_GIT_CREDENTIAL_TOKEN", token);
    }
    command
}

/// The user and token from the environment, for an https URL.
fn token_for(url: &str) -> Option<(String, String)> {
    if !url.to_ascii_lowercase().starts_with("https://") {
        return None;
    }
    let set = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
    if let Some(token) = set(TOKEN_ENV) {
        let user = set(USERNAME_ENV).unwrap_or_else(|| "oauth2".to_owned());
        return Some((user, token));
    }
    set(JOB_TOKEN_ENV).map(|token| ("gitlab-ci-token".to_owned(), token))
}

fn run(mut command: Command) -> Result<Output, TransportError> {
    command.output().map_err(|e| TransportError::NoGit {
        message: e.to_string(),
    })
}

/// `git clone --no-checkout URL DEST`: every branch and tag, no work tree
/// written (the caller checks out what it needs with git2).
pub fn clone(url: &str, dest: &Path) -> Result<(), TransportError> {
    check_url(url)?;
    let mut command = git(None, url);
    command
        .args(["clone", "--quiet", "--no-checkout", "--"])
        .arg(url)
        .arg(dest);
    let output = run(command)?;
    if output.status.success() {
        return Ok(());
    }
    Err(failure("cloning", url, &output))
}

/// `git ls-remote REMOTE` in `dir`: the remote's references and commits.
pub fn ls_remote(
    dir: &Path,
    remote: &str,
    url: &str,
) -> Result<Vec<(String, String)>, TransportError> {
    check_url(url)?;
    let mut command = git(Some(dir), url);
    command.args(["ls-remote", "--", remote]);
    let output = run(command)?;
    if !output.status.success() {
        return Err(failure("listing the references of", url, &output));
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(oid, name)| (name.to_owned(), oid.to_owned()))
        .collect())
}

/// `git push --porcelain REMOTE REFSPEC…` in `dir`, never forced: every
/// reference must be taken.
pub fn push(dir: &Path, remote: &str, url: &str, refspecs: &[String]) -> Result<(), PushError> {
    check_url(url)?;
    if let Some(forced) = refspecs.iter().find(|r| r.starts_with('+')) {
        return Err(PushError::Transport(TransportError::BadUrl {
            url: forced.clone(),
            reason: "a forced refspec: oent never forces a push",
        }));
    }
    let mut command = git(Some(dir), url);
    command
        .args(["push", "--porcelain", "--", remote])
        .args(refspecs);
    let output = run(command)?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let rejected = porcelain_rejections(&stdout);
    if !rejected.is_empty() {
        let remote = String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter_map(|l| l.strip_prefix("remote: "))
            .map(|l| l.trim_end().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
        return Err(PushError::Rejected { rejected, remote });
    }
    if output.status.success() {
        return Ok(());
    }
    Err(failure("pushing to", url, &output).into())
}

/// The `!` lines of `git push --porcelain`: `!\tSRC:DST\t[rejected] (why)`.
fn porcelain_rejections(stdout: &str) -> Vec<Rejected> {
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("!\t"))
        .map(|line| {
            let mut fields = line.splitn(2, '\t');
            let refspec = fields.next().unwrap_or_default();
            let summary = fields.next().unwrap_or_default();
            let reference = refspec.rsplit(':').next().unwrap_or(refspec).to_owned();
            let reason = summary
                .split_once('(')
                .map(|(_, r)| r.trim_end_matches(')').to_owned())
                .unwrap_or_else(|| summary.to_owned());
            Rejected {
                reference,
                not_fast_forward: summary.starts_with("[rejected]"),
                reason,
            }
        })
        .collect()
}

/// A failed run, said for what went wrong: credentials, certificate, host
/// key, or git's own words.
fn failure(what: &'static str, url: &str, output: &Output) -> TransportError {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("hint:"))
        .collect();
    let detail = lines
        .iter()
        .map(|l| {
            l.trim_start_matches("fatal: ")
                .trim_start_matches("error: ")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let lower = stderr.to_ascii_lowercase();
    let url = url.to_owned();
    if lower.contains("host key verification failed") {
        let (host, port) = ssh_host(&url);
        let fingerprints = host_fingerprints(&host, port.as_deref());
        return TransportError::HostKey {
            url,
            host,
            port,
            fingerprints,
        };
    }
    if lower.contains("authentication failed")
        || lower.contains("could not read username")
        || lower.contains("could not read password")
        || lower.contains("permission denied (publickey")
        || lower.contains("access denied")
    {
        return TransportError::Authentication { url, detail };
    }
    if lower.contains("certificate") {
        return TransportError::Certificate { url, detail };
    }
    TransportError::Failed {
        what,
        url,
        detail: if detail.is_empty() {
            format!("git exited with {}", output.status)
        } else {
            detail
        },
    }
}

/// The host and port of an ssh URL (`ssh://[user@]host[:port]/path` or
/// `[user@]host:path`).
fn ssh_host(url: &str) -> (String, Option<String>) {
    if let Some(rest) = url.strip_prefix("ssh://") {
        let authority = rest.split('/').next().unwrap_or_default();
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed.split_once(']').unwrap_or((bracketed, ""));
            let port = after.strip_prefix(':').map(str::to_owned);
            return (host.to_owned(), port);
        }
        return match host_port.rsplit_once(':') {
            Some((host, port)) => (host.to_owned(), Some(port.to_owned())),
            None => (host_port.to_owned(), None),
        };
    }
    let before = url.split(':').next().unwrap_or(url);
    let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
    (host.to_owned(), None)
}

/// `ssh-keyscan HOST | ssh-keygen -lf -`: the fingerprints the server
/// presents, for the user to check (None when the tools are missing).
fn host_fingerprints(host: &str, port: Option<&str>) -> Option<String> {
    let mut scan = Command::new("ssh-keyscan");
    scan.args(["-T", "5"]);
    if let Some(port) = port {
        scan.args(["-p", port]);
    }
    let keys = scan
        .arg("--")
        .arg(host)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    std::io::Write::write_all(keygen.stdin.as_mut()?, &keys.stdout).ok()?;
    drop(keygen.stdin.take());
    let output = keygen.wait_with_output().ok()?;
    // `256 SHA256:… [127.0.0.1]:2222 (ED25519)` → `SHA256:… (ED25519)`.
    let prints: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            Some(format!("{} {}", fields.get(1)?, fields.last()?))
        })
        .collect();
    (!prints.is_empty()).then(|| prints.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_with_credentials_are_refused_and_redacted() {
        for good in [
            "https://gitlab.example/openent/x.git",
            "git@gitlab.example:openent/x.git",
            "ssh://git@gitlab.example:2222/openent/x.git",
            "git://127.0.0.1/x.git",
            "/srv/git/x.git",
        ] {
            assert!(check_url(good).is_ok(), "{good}");
        }
        let err = check_url("https://oauth2:glpat-secret@gitlab.example/x.git").unwrap_err();
        let text = err.to_string();
        assert!(!text.contains("glpat-secret"), "{text}");
        assert!(
            text.starts_with("`https://***@gitlab.example/x.git` holds a password"),
            "{text}"
        );
        assert!(check_url("https://glpat-secret@gitlab.example/x.git").is_err());
        assert!(check_url("ssh://git:pw@gitlab.example/x.git").is_err());
        assert!(check_url("--upload-pack=touch /tmp/x").is_err());
    }

    #[test]
    fn porcelain_rejections_are_read() {
        let out = "To git://h/x.git\n!\trefs/heads/a:refs/heads/a\t[remote rejected] (pre-receive hook declined)\n\
                   !\trefs/tags/v1:refs/tags/v1\t[rejected] (fetch first)\n=\trefs/heads/b:refs/heads/b\t[up to date]\nDone\n";
        let rejected = porcelain_rejections(out);
        assert_eq!(
            rejected,
            vec![
                Rejected {
                    reference: "refs/heads/a".into(),
                    reason: "pre-receive hook declined".into(),
                    not_fast_forward: false
                },
                Rejected {
                    reference: "refs/tags/v1".into(),
                    reason: "fetch first".into(),
                    not_fast_forward: true
                },
            ]
        );
    }

    #[test]
    fn ssh_hosts_and_ports() {
        assert_eq!(
            ssh_host("ssh://git@127.0.0.1:2222/x.git"),
            ("127.0.0.1".into(), Some("2222".into()))
        );
        assert_eq!(
            ssh_host("git@gitlab.example:openent/x.git"),
            ("gitlab.example".into(), None)
        );
        assert_eq!(
            ssh_host("ssh://[::1]:22/x.git"),
            ("::1".into(), Some("22".into()))
        );
    }
}
