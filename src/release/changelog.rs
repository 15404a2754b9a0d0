//! CHANGELOG.md in the Keep a Changelog style (English headings), newest
//! release first, built from the commits since the last tag: conventional
//! commits grouped by type, the others listed under "Other changes".

/// One commit message read as a conventional commit, if it is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `feat`, `fix`…; `None` for a commit that is not conventional.
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub breaking: bool,
    pub description: String,
}

pub const TYPES: &[&str] = &[
    "feat", "fix", "perf", "refactor", "docs", "test", "build", "ci", "chore", "style", "revert",
];

/// Section headings, in the order they are written.
const SECTIONS: &[(&str, &[&str])] = &[
    ("Added", &["feat"]),
    ("Fixed", &["fix"]),
    ("Performance", &["perf"]),
    ("Changed", &["refactor", "style", "revert"]),
    ("Documentation", &["docs"]),
    ("Maintenance", &["test", "build", "ci", "chore"]),
];

pub const HEADER: &str = "# Changelog\n\n\
All notable changes are listed here, newest first. The format follows\n\
[Keep a Changelog](https://keepachangelog.com/en/1.1.0/) and versions follow\n\
[Semantic Versioning](https://semver.org/); `oent release` writes each section.\n";

/// `type(scope)!: description`, with `BREAKING CHANGE:` in the body.
pub fn parse(message: &str) -> Entry {
    let subject = message.lines().next().unwrap_or_default().trim();
    let breaking_body = message
        .lines()
        .skip(1)
        .any(|l| l.starts_with("BREAKING CHANGE:") || l.starts_with("BREAKING-CHANGE:"));
    let plain = || Entry {
        kind: None,
        scope: None,
        breaking: breaking_body,
        description: subject.to_owned(),
    };
    let Some((head, description)) = subject.split_once(':') else {
        return plain();
    };
    let (head, bang) = match head.strip_suffix('!') {
        Some(h) => (h, true),
        None => (head, false),
    };
    let (kind, scope) = match head.split_once('(') {
        Some((k, rest)) => match rest.strip_suffix(')') {
            Some(scope) if !scope.is_empty() => (k, Some(scope.to_owned())),
            _ => return plain(),
        },
        None => (head, None),
    };
    let kind = kind.to_ascii_lowercase();
    if !TYPES.contains(&kind.as_str()) || description.trim().is_empty() {
        return plain();
    }
    Entry {
        kind: Some(kind),
        scope,
        breaking: bang || breaking_body,
        description: description.trim().to_owned(),
    }
}

/// The section of one release: `## [version] - date`, then the groups.
/// `extra_breaking` are the manifest changes the semver check found.
pub fn section(
    version: &str,
    date: &str,
    messages: &[String],
    extra_breaking: &[String],
) -> String {
    let entries: Vec<Entry> = messages
        .iter()
        .map(|m| parse(m))
        .filter(|e| !e.description.starts_with("release: "))
        .collect();
    let line = |e: &Entry| match &e.scope {
        Some(scope) => format!("- **{scope}:** {}\n", e.description),
        None => format!("- {}\n", e.description),
    };
    let mut out = format!("## [{version}] - {date}\n");
    let mut group = |title: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            out.push_str(&format!("\n### {title}\n\n"));
            for l in lines {
                out.push_str(&l);
            }
        }
    };
    let mut breaking: Vec<String> = extra_breaking.iter().map(|m| format!("- {m}\n")).collect();
    breaking.extend(entries.iter().filter(|e| e.breaking).map(line));
    group("Breaking changes", breaking);
    for (title, kinds) in SECTIONS {
        group(
            title,
            entries
                .iter()
                .filter(|e| !e.breaking && e.kind.as_deref().is_some_and(|k| kinds.contains(&k)))
                .map(line)
                .collect(),
        );
    }
    group(
        "Other changes",
        entries
            .iter()
            .filter(|e| !e.breaking && e.kind.is_none())
            .map(line)
            .collect(),
    );
    if entries.is_empty() && extra_breaking.is_empty() {
        out.push_str("\nNo change since the previous release.\n");
    }
    out
}

/// `existing` (or a new file) with `section` inserted above the previous
/// releases: after the header and an `## [Unreleased]` section if there is one.
pub fn insert(existing: Option<&str>, section: &str) -> String {
    let Some(text) = existing.filter(|t| !t.trim().is_empty()) else {
        return format!("{HEADER}\n{section}");
    };
    let mut offset = 0;
    let mut insert_at = None;
    for line in text.split_inclusive('\n') {
        if line.starts_with("## ") && !line.to_ascii_lowercase().starts_with("## [unreleased]") {
            insert_at = Some(offset);
            break;
        }
        offset += line.len();
    }
    match insert_at {
        Some(at) => format!("{}{section}\n{}", &text[..at], &text[at..]),
        None => {
            let mut out = text.to_owned();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            format!("{out}\n{section}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventional_commits_are_read() {
        let e = parse("feat(notes)!: drop the old export\n\nmore");
        assert_eq!(e.kind.as_deref(), Some("feat"));
        assert_eq!(e.scope.as_deref(), Some("notes"));
        assert!(e.breaking);
        let e = parse("fix: off by one\n\nBREAKING CHANGE: the API moved");
        assert!(e.breaking);
        let e = parse("Update README");
        assert_eq!(e.kind, None);
        assert_eq!(e.description, "Update README");
        assert_eq!(parse("wip: things").kind, None);
    }

    #[test]
    fn sections_group_and_insert_newest_first() {
        let messages = vec![
            "feat: SMS to parents".to_owned(),
            "fix(cahier): dates in UTC".to_owned(),
            "chore: bump deps".to_owned(),
            "Tidy up".to_owned(),
            "feat!: new config layout".to_owned(),
        ];
        let s = section("1.1.0", "2026-08-14", &messages, &[]);
        assert_eq!(
            s,
            "## [1.1.0] - 2026-08-14\n\n### Breaking changes\n\n- new config layout\n\n\
             ### Added\n\n- SMS to parents\n\n### Fixed\n\n- **cahier:** dates in UTC\n\n\
             ### Maintenance\n\n- bump deps\n\n### Other changes\n\n- Tidy up\n"
        );
        let first = insert(None, &s);
        assert!(first.starts_with("# Changelog\n"));
        let second = insert(Some(&first), "## [1.2.0] - 2026-09-01\n\n- x\n");
        let pos = |v| second.find(v).unwrap();
        assert!(pos("## [1.2.0]") < pos("## [1.1.0]"), "{second}");
        let with_unreleased = "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - x\n";
        let out = insert(Some(with_unreleased), "## [1.1.0] - y\n");
        assert_eq!(
            out,
            "# Changelog\n\n## [Unreleased]\n\n## [1.1.0] - y\n\n## [1.0.0] - x\n"
        );
    }
}
