//! Issue 14's additions, through the real binary: examples in every command's help, shell
//! completions that load in bash, the man pages, colour only where it belongs, etcdctl's
//! `--hex`, and several inputs in one command.

#[path = "../../mvcc/tests/common/fixtures.rs"]
mod fixtures;

use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_etcdsnap");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .expect("run etcdsnap")
}

fn db(name: &str) -> String {
    fixtures::db(name).to_string_lossy().into_owned()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The subcommands, from `etcdsnap --help`.
fn commands() -> Vec<String> {
    let help = text(&run(&["--help"]).stdout);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect()
}

#[test]
fn every_command_help_has_at_least_two_examples() {
    let cmds = commands();
    assert!(cmds.len() >= 12, "{cmds:?}");
    for c in &cmds {
        let help = text(&run(&[c, "--help"]).stdout);
        let examples = help
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .filter(|l| l.trim_start().starts_with("etcdsnap ") || l.contains("<(etcdsnap"))
            .count();
        assert!(examples >= 2, "{c}: {examples} examples\n{help}");
    }
}

#[test]
fn completions_load_in_bash_and_man_pages_render() {
    let bash = run(&["completions", "bash"]);
    assert_eq!(bash.status.code(), Some(0));
    let dir = std::env::temp_dir().join(format!("etcdsnap-compl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("etcdsnap.bash");
    std::fs::write(&f, &bash.stdout).unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -e; source {}; complete -p etcdsnap",
            f.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("-F _etcdsnap etcdsnap"));
    // Completing `etcdsnap sta` offers status.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(etcdsnap sta); COMP_CWORD=1; COMP_LINE='etcdsnap sta'; COMP_POINT=12; _etcdsnap etcdsnap sta etcdsnap; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            f.display()
        ))
        .output()
        .unwrap();
    assert!(
        text(&o.stdout).lines().any(|l| l == "status"),
        "{}",
        text(&o.stdout)
    );
    for shell in ["zsh", "fish"] {
        let o = run(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(text(&o.stdout).contains("etcdsnap"));
    }
    std::fs::remove_dir_all(&dir).unwrap();

    let man = text(&run(&["man"]).stdout);
    assert!(man.starts_with(".ie") || man.starts_with(".TH"), "{man}");
    assert!(man.contains(".TH etcdsnap 1"));
    for c in commands() {
        let o = run(&["man", &c]);
        assert_eq!(o.status.code(), Some(0), "{c}");
        let page = text(&o.stdout);
        assert!(page.contains(&format!(".TH etcdsnap-{c} 1")), "{c}");
        assert!(page.contains("Examples"), "{c}");
    }
    assert_eq!(run(&["man", "nope"]).status.code(), Some(2));
}

#[test]
fn colour_on_a_terminal_or_when_asked_never_in_a_pipe() {
    let (a, b) = (db("h2a.db"), db("h2b.db"));
    let esc = |o: &Output| o.stdout.contains(&0x1b);
    let v = db("own-35.db");
    assert!(!esc(&run(&["verify", &v])));
    assert!(!esc(&run(&["diff", &a, &b])));
    assert!(esc(&run(&["verify", &v, "--color", "always"])));
    assert!(esc(&run(&["--color=always", "diff", &a, &b])));
    assert!(!esc(&run(&["verify", &v, "--color", "never"])));
    // The same bytes, colour removed.
    let plain = text(&run(&["diff", &a, &b, "--values"]).stdout);
    let coloured = text(&run(&["diff", &a, &b, "--values", "--color", "always"]).stdout);
    let stripped = coloured
        .replace("\x1b[32m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[0m", "");
    assert_eq!(stripped, plain);
    // On a terminal (script(1) gives one): colour by default, none with NO_COLOR.
    let tty = |env: &str| -> String {
        let o = Command::new("script")
            .args(["-qec", &format!("{env} {BIN} verify {v}"), "/dev/null"])
            .env_remove("NO_COLOR")
            .output()
            .expect("script(1) from util-linux");
        text(&o.stdout)
    };
    assert!(tty("").contains("\x1b[32mOK"));
    assert!(!tty("NO_COLOR=1").contains('\x1b'));
}

#[test]
fn hex_is_etcdctls() {
    let f = db("own-35.db");
    // Keys and values without newlines, so that the raw listing splits into lines.
    let sel = ["/app/config/", "--prefix"];
    let raw = run(&[&["get", f.as_str()][..], &sel[..]].concat()).stdout;
    let hex = text(&run(&[&["get", f.as_str()][..], &sel[..], &["--hex"][..]].concat()).stdout);
    // etcdctl 3.5.1 `get foo --hex` printed `\x66\x6f\x6f`: every byte as \xNN, a line per
    // key and per value.
    let want: String = raw
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| l.iter().map(|x| format!("\\x{x:02x}")).collect::<String>() + "\n")
        .collect();
    assert!(want.lines().count() >= 10);
    assert!(hex == want, "--hex differs:\n{hex}\nwant:\n{want}");
    // Human outputs escape keys the same way.
    let h = text(&run(&["history", &f, "foo", "--hex"]).stdout);
    assert!(h.starts_with("\\x66\\x6f\\x6f  ("), "{h}");
}

#[test]
fn several_inputs_one_line_each_and_the_worst_exit() {
    let (a, b) = (db("own-35.db"), db("own-34.db"));
    let one_a = text(&run(&["status", &a, "-w", "simple"]).stdout);
    let one_b = text(&run(&["status", &b, "-w", "simple"]).stdout);
    let both = run(&["status", &a, &b, "-w", "simple"]);
    assert_eq!(both.status.code(), Some(0));
    assert_eq!(text(&both.stdout), format!("{a}: {one_a}{b}: {one_b}"));
    let json = text(&run(&["status", &a, &b, "-w", "json"]).stdout);
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["file"], b.as_str());
    let table = text(&run(&["status", &a, &b]).stdout);
    assert_eq!(table.lines().count(), 6, "{table}");
    // One unreadable: the others still answered, exit 2.
    let o = run(&["status", &a, "/nonexistent.db", &b, "-w", "simple"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(text(&o.stdout), format!("{a}: {one_a}{b}: {one_b}"));
    assert_eq!(text(&o.stderr).lines().count(), 1);
    // verify: a damaged one makes it 1.
    let dir = std::env::temp_dir().join(format!("etcdsnap-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.db");
    let bytes = std::fs::read(&a).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let o = run(&["verify", &a, bad.to_str().unwrap(), "-w", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let oks: Vec<bool> = text(&o.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["ok"]
                .as_bool()
                .unwrap()
        })
        .collect();
    assert_eq!(oks, [true, false]);
    assert_eq!(run(&["verify", &a, &b]).status.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn progress_on_a_terminal_after_a_second_never_with_quiet_or_in_a_pipe() {
    // verify reads stdin inside its progress span: a writer that waits 1.5 s makes it slow.
    let f = db("own-35.db");
    let on_tty = |flags: &str| -> String {
        let o = Command::new("script")
            .args([
                "-qec",
                &format!("(sleep 1.5; cat {f}) | {BIN} verify - {flags} > /dev/null"),
                "/dev/null",
            ])
            .output()
            .expect("script(1) from util-linux");
        text(&o.stdout)
    };
    assert!(on_tty("").contains("verify: checking -"));
    assert!(!on_tty("-q").contains("verify: checking"));
    // Not a terminal: never.
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "(sleep 1.5; cat {f}) | {BIN} verify - 2>&1 >/dev/null"
        ))
        .output()
        .unwrap();
    assert!(!text(&o.stdout).contains("verify: checking"));
}
