//! `oent completions SHELL` and `oent man --to DIR`, read by their real
//! consumers: bash loads the completion script and completes a command and
//! a flag; man(1) formats every page.

mod support;

use std::process::Command;

use support::{Test, oent};

#[test]
fn bash_loads_the_completions_and_completes_commands_and_flags() {
    let output = Test::new().args(["completions", "bash"]).run().status(0);
    let script = output.path().join("oent.bash");
    std::fs::write(&script, &output.stdout).unwrap();
    // What bash offers after `oent upd` and after `oent update --dr`.
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{line}'\nCOMP_POINT=${{#COMP_LINE}}\n\
             _oent oent '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            script.display(),
            words.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = Command::new("bash").arg("-c").arg(probe).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("oent upd"), "update\n");
    assert_eq!(complete("oent update --dr"), "--dry-run\n");
}

#[test]
fn every_shell_gets_a_script_that_names_oent() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = Test::new().args(["completions", shell]).run().status(0);
        assert!(output.stdout.contains("oent"), "{shell}");
        assert!(
            output.stdout.contains("dry-run"),
            "{shell}: every flag is there"
        );
    }
}

#[test]
fn an_unknown_shell_is_refused_with_the_ones_there_are() {
    Test::new()
        .args(["completions", "tcsh"])
        .run()
        .status(2)
        .stderr_contains("invalid value 'tcsh' for '<SHELL>'")
        .stderr_contains("[possible values: bash, elvish, fish, powershell, zsh]");
}

#[test]
fn man_pages_for_oent_and_each_command_format_with_man() {
    let output = Test::new()
        .args(["man", "--to", "man"])
        .run()
        .status(0)
        .stderr_contains("man page(s) into man");
    let dir = output.path().join("man");
    for page in [
        "oent.1",
        "oent-build.1",
        "oent-update.1",
        "oent-registry-build.1",
    ] {
        let path = dir.join(page);
        assert!(path.is_file(), "{page}");
        let formatted = Command::new("man")
            .args(["-l", "-P", "cat"])
            .arg(&path)
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(formatted.status.success(), "{page}: {formatted:?}");
        let text = String::from_utf8_lossy(&formatted.stdout);
        assert!(text.contains("SYNOPSIS"), "{page}: {text}");
    }
    let build = Command::new("man")
        .args(["-l", "-P", "cat"])
        .arg(dir.join("oent-build.1"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&build.stdout).contains("--diff"));
    // Written again, the pages keep their bytes.
    let before = support::tree(&dir);
    Command::new(oent())
        .args(["man", "--to"])
        .arg(&dir)
        .status()
        .unwrap();
    assert_eq!(support::tree(&dir), before);
}
