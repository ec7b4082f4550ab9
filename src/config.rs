//! `kreg.yaml`: the command line kept in a file, for Git (`-f FILE`, or `KREG_CONFIG`).
//!
//! ```yaml
//! apiVersion: kreg.dev/v1alpha1
//! kind: Config
//! namespace: kreg-system      # any global flag by its long name: context, kubeconfig, timeout...
//! up:                         # `kreg up`'s flags by their long names
//!   expose: nodeport
//!   auth: true
//!   mirror: [docker.io]
//! ```
//!
//! The file becomes arguments in front of the command line's, so clap validates them exactly as
//! typed flags; a flag on the command line wins over the file (the file's value for that flag,
//! or its `--no-` pair, is left out). Every command reads the globals; only `up` reads `up:`.
//! Unknown keys are refused with their path. Pure: the caller reads the file.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use clap::{Arg, ArgAction, Command};
use serde_yaml_ng::Value;

pub const API_VERSION: &str = "kreg.dev/v1alpha1";
pub const KIND: &str = "Config";
/// The environment variable naming the file when no `-f` is given.
pub const ENV: &str = "KREG_CONFIG";

/// The file the command line (`-f FILE`, `--filename FILE`, `--filename=FILE`) or `env`
/// (KREG_CONFIG) names; the command line wins.
pub fn file_of(argv: &[OsString], env: Option<OsString>) -> Option<PathBuf> {
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "-f" || a == "--filename" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a
            .strip_prefix("--filename=")
            .or_else(|| a.strip_prefix("-f="))
        {
            return Some(PathBuf::from(v));
        }
    }
    env.filter(|e| !e.is_empty()).map(PathBuf::from)
}

/// `argv` with the file's settings (YAML `text`) put in front of the command line's own; `cmd`
/// is kreg's clap command, whose arguments define which keys exist and what they take.
pub fn expand(cmd: &Command, argv: &[OsString], text: &str) -> Result<Vec<OsString>> {
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| anyhow!("not YAML: {e}"))?;
    let Value::Mapping(top) = doc else {
        bail!("the file must be a mapping (apiVersion: {API_VERSION}, kind: {KIND}, ...)");
    };
    match (top.get("apiVersion"), top.get("kind")) {
        (Some(Value::String(v)), Some(Value::String(k))) if v == API_VERSION && k == KIND => {}
        _ => bail!("apiVersion must be {API_VERSION} and kind {KIND}"),
    }
    let globals: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set() && a.get_long() != Some("filename"))
        .collect();
    let up_cmd = cmd
        .find_subcommand("up")
        .ok_or_else(|| anyhow!("kreg has no up command"))?;
    let up: Vec<&Arg> = up_cmd.get_arguments().collect();
    let user = &argv[1.min(argv.len())..];
    let sub = subcommand_index(&globals, user);
    // `render` takes the install settings of `up:`; what only an `up` does (--dry-run,
    // --rotate-ca, ...) does not apply to it and is left out.
    let takes_up = sub
        .and_then(|i| cmd.find_subcommand(user[i].to_str()?))
        .filter(|c| matches!(c.get_name(), "up" | "render"));
    let taken: Vec<&Arg> = takes_up
        .map(|c| c.get_arguments().collect())
        .unwrap_or_default();
    let mut front = vec![];
    let mut up_args = vec![];
    for (k, v) in &top {
        let key = k
            .as_str()
            .ok_or_else(|| anyhow!("{k:?}: keys are strings"))?;
        match key {
            "apiVersion" | "kind" => {}
            "up" => {
                let Value::Mapping(m) = v else {
                    bail!("up: must be a mapping of `kreg up` flags");
                };
                for (k, v) in m {
                    let key = k
                        .as_str()
                        .ok_or_else(|| anyhow!("up.{k:?}: keys are strings"))?;
                    let arg = find(&up, key).ok_or_else(|| unknown(&format!("up.{key}"), &up))?;
                    let after = sub.map_or(&[][..], |i| &user[i + 1..]);
                    if find(&taken, key).is_some() && !given(&up, arg, after) {
                        up_args.extend(to_args(arg, v, &format!("up.{key}"))?);
                    }
                }
            }
            _ => {
                let arg = find(&globals, key).ok_or_else(|| unknown(key, &globals))?;
                if !given(&globals, arg, user) {
                    front.extend(to_args(arg, v, key)?);
                }
            }
        }
    }
    let mut out = vec![argv.first().cloned().unwrap_or_else(|| "kreg".into())];
    out.extend(front);
    match sub {
        Some(i) if takes_up.is_some() => {
            out.extend(user[..=i].iter().cloned());
            out.extend(up_args);
            out.extend(user[i + 1..].iter().cloned());
        }
        _ => out.extend(user.iter().cloned()),
    }
    Ok(out)
}

/// The JSON Schema of the file (`kreg schema config`), from the same clap definitions.
pub fn schema(cmd: &Command) -> serde_json::Value {
    let props = |args: Vec<&Arg>| {
        let mut p = serde_json::Map::new();
        for a in args {
            let Some(long) = a.get_long() else { continue };
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let ty = match a.get_action() {
                ArgAction::SetTrue => serde_json::json!({"type": "boolean"}),
                ArgAction::Append => serde_json::json!({
                    "type": ["array", "string"], "items": {"type": "string"}
                }),
                _ => serde_json::json!({"type": ["string", "number"]}),
            };
            let mut ty = ty;
            ty["description"] = help.into();
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_string())
                .collect();
            // A boolean flag lists "true"/"false" as strings: the file takes YAML booleans.
            if !values.is_empty() && a.get_action().takes_values() {
                ty["enum"] = values.into();
            }
            p.insert(long.to_string(), ty);
        }
        p
    };
    let globals = props(
        cmd.get_arguments()
            .filter(|a| a.is_global_set() && a.get_long() != Some("filename"))
            .collect(),
    );
    let up = props(
        cmd.find_subcommand("up")
            .map(|c| c.get_arguments().collect())
            .unwrap_or_default(),
    );
    let mut top = globals;
    top.insert(
        "apiVersion".into(),
        serde_json::json!({"const": API_VERSION}),
    );
    top.insert("kind".into(), serde_json::json!({"const": KIND}));
    top.insert(
        "up".into(),
        serde_json::json!({"type": "object", "additionalProperties": false, "properties": up}),
    );
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kreg.yaml",
        "description": "kreg's settings in a file (-f FILE or KREG_CONFIG): global flags at the top, `kreg up`'s under up; flags on the command line win",
        "type": "object",
        "required": ["apiVersion", "kind"],
        "additionalProperties": false,
        "properties": top,
    })
}

fn find<'a>(args: &[&'a Arg], key: &str) -> Option<&'a Arg> {
    args.iter()
        .copied()
        .find(|a| a.get_long() == Some(key) && !a.is_hide_set() && key != "help")
}

fn unknown(path: &str, args: &[&Arg]) -> anyhow::Error {
    let known: Vec<&str> = args
        .iter()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "help" && *l != "filename")
        .collect();
    crate::error::hint(
        format!("{path}: unknown field"),
        format!(
            "the fields here are the flags' long names: {}",
            known.join(", ")
        ),
    )
}

/// The flag's command-line form for the file's value at `path`.
fn to_args(arg: &Arg, v: &Value, path: &str) -> Result<Vec<OsString>> {
    let long = arg.get_long().expect("found by long name");
    let scalar = |v: &Value| -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            _ => bail!("{path}: expected a single value"),
        }
    };
    Ok(match arg.get_action() {
        ArgAction::SetTrue => match v {
            Value::Bool(true) => vec![format!("--{long}").into()],
            Value::Bool(false) => vec![],
            _ => bail!("{path}: expected true or false"),
        },
        ArgAction::Append => match v {
            Value::Sequence(items) => items
                .iter()
                .map(|i| Ok(format!("--{long}={}", scalar(i)?).into()))
                .collect::<Result<_>>()?,
            other => vec![format!("--{long}={}", scalar(other)?).into()],
        },
        _ => vec![format!("--{long}={}", scalar(v)?).into()],
    })
}

/// Whether `tokens` (command-line arguments) set `arg` or its `--no-` pair (`--auth` and
/// `--no-auth`): then the file's value is left out and the command line's stands.
fn given(args: &[&Arg], arg: &Arg, tokens: &[OsString]) -> bool {
    let long = arg.get_long().unwrap_or_default();
    let mut family = vec![long.to_string()];
    match long.strip_prefix("no-") {
        Some(base) => family.push(base.to_string()),
        None => family.push(format!("no-{long}")),
    }
    let shorts: Vec<char> = args
        .iter()
        .filter(|a| a.get_long().is_some_and(|l| family.iter().any(|f| f == l)))
        .filter_map(|a| a.get_short())
        .collect();
    tokens.iter().map(|t| t.to_string_lossy()).any(|t| {
        if let Some(rest) = t.strip_prefix("--") {
            let name = rest.split('=').next().unwrap_or(rest);
            family.iter().any(|f| f == name)
        } else if let Some(rest) = t.strip_prefix('-') {
            rest.chars().next().is_some_and(|c| shorts.contains(&c))
        } else {
            false
        }
    })
}

/// The index in `user` of the subcommand: the first token that is neither an option nor the
/// value of a global option that takes one.
fn subcommand_index(globals: &[&Arg], user: &[OsString]) -> Option<usize> {
    let takes_value = |t: &str| {
        globals.iter().any(|a| {
            let value = !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::SetFalse);
            value
                && (a.get_long().is_some_and(|l| t == format!("--{l}"))
                    || a.get_short().is_some_and(|s| t == format!("-{s}")))
        }) || t == "-f"
            || t == "--filename"
    };
    let mut i = 0;
    while i < user.len() {
        let t = user[i].to_string_lossy();
        if t == "--" {
            return None;
        }
        if !t.starts_with('-') {
            return Some(i);
        }
        i += if takes_value(&t) { 2 } else { 1 };
    }
    None
}

/// Reads the file `argv` or KREG_CONFIG names and expands `argv` with it; `argv` unchanged
/// without one. The file's errors name the file.
pub fn apply(cmd: &Command, argv: Vec<OsString>) -> Result<Vec<OsString>> {
    let Some(path) = file_of(&argv, std::env::var_os(ENV)) else {
        return Ok(argv);
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        crate::error::hint(
            format!("cannot read the config file {}: {e}", path.display()),
            format!("check the path given with -f or {ENV}"),
        )
    })?;
    expand(cmd, &argv, &text).map_err(|e| anyhow!("config file {}: {e:#}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    fn argv(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    fn expanded(text: &str, line: &[&str]) -> Result<Vec<String>> {
        let cmd = crate::cli::Cli::command();
        Ok(expand(&cmd, &argv(line), text)?
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect())
    }

    const FILE: &str = "apiVersion: kreg.dev/v1alpha1\nkind: Config\nnamespace: team-reg\ntimeout: 3m\nup:\n  expose: nodeport\n  auth: true\n  mirror: [docker.io, ghcr.io]\n  size: 20Gi\n";

    #[test]
    fn the_file_becomes_flags_in_front_of_the_command_line() {
        let a = expanded(FILE, &["kreg", "up", "--dry-run"]).unwrap();
        assert_eq!(
            a,
            [
                "kreg",
                "--namespace=team-reg",
                "--timeout=3m",
                "up",
                "--expose=nodeport",
                "--auth",
                "--mirror=docker.io",
                "--mirror=ghcr.io",
                "--size=20Gi",
                "--dry-run"
            ]
        );
        // Every command takes the globals; only up takes `up:`.
        let a = expanded(FILE, &["kreg", "status", "-o", "json"]).unwrap();
        assert_eq!(
            a,
            [
                "kreg",
                "--namespace=team-reg",
                "--timeout=3m",
                "status",
                "-o",
                "json"
            ]
        );
    }

    #[test]
    fn render_takes_the_install_settings_and_not_what_only_up_does() {
        let file = format!("{FILE}  rotate-ca: true\n  no-wait: true\n");
        let a = expanded(&file, &["kreg", "render"]).unwrap();
        assert_eq!(
            a,
            [
                "kreg",
                "--namespace=team-reg",
                "--timeout=3m",
                "render",
                "--expose=nodeport",
                "--auth",
                "--mirror=docker.io",
                "--mirror=ghcr.io",
                "--size=20Gi",
            ]
        );
        // The same file still refuses a field no `up` flag has.
        let e = expanded(&format!("{FILE}  colour: red\n"), &["kreg", "render"]).unwrap_err();
        assert!(
            format!("{e:#}").contains("up.colour: unknown field"),
            "{e:#}"
        );
        // And parses as render's flags.
        crate::cli::Cli::try_parse_from(a).unwrap();
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let a = expanded(
            FILE,
            &[
                "kreg",
                "-n",
                "other",
                "up",
                "--no-auth",
                "--expose",
                "loadbalancer",
            ],
        )
        .unwrap();
        assert!(!a.iter().any(|x| x.starts_with("--namespace=")), "{a:?}");
        assert!(!a.contains(&"--auth".to_string()), "{a:?}");
        assert!(!a.iter().any(|x| x.starts_with("--expose=")), "{a:?}");
        assert!(a.contains(&"--size=20Gi".to_string()), "{a:?}");
        // Parsed by clap as a person's flags: no conflict, the command line's values.
        let cli = crate::cli::Cli::try_parse_from(&a).unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("other"));
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_refused_with_their_path() {
        let bad = FILE.replace("  size: 20Gi", "  sise: 20Gi");
        let e = format!("{:#}", expanded(&bad, &["kreg", "up"]).unwrap_err());
        assert!(e.contains("up.sise: unknown field"), "{e}");
        let e = format!(
            "{:#}",
            expanded(&FILE.replace("timeout", "timeot"), &["kreg", "up"]).unwrap_err()
        );
        assert!(e.contains("timeot: unknown field"), "{e}");
        let e = format!(
            "{:#}",
            expanded(
                &FILE.replace("auth: true", "auth: yes please"),
                &["kreg", "up"]
            )
            .unwrap_err()
        );
        assert!(e.contains("up.auth: expected true or false"), "{e}");
        let e = format!(
            "{:#}",
            expanded("kind: Config\n", &["kreg", "up"]).unwrap_err()
        );
        assert!(e.contains("apiVersion must be"), "{e}");
        // A value clap refuses is refused as if typed.
        let a = expanded(&FILE.replace("nodeport", "carrier-pigeon"), &["kreg", "up"]).unwrap();
        assert!(crate::cli::Cli::try_parse_from(&a).is_err());
    }

    #[test]
    fn the_file_is_named_by_f_or_kreg_config() {
        assert_eq!(
            file_of(
                &argv(&["kreg", "-f", "a.yaml", "up"]),
                Some("b.yaml".into())
            ),
            Some(PathBuf::from("a.yaml"))
        );
        assert_eq!(
            file_of(&argv(&["kreg", "up", "--filename=c.yaml"]), None),
            Some(PathBuf::from("c.yaml"))
        );
        assert_eq!(
            file_of(&argv(&["kreg", "up"]), Some("b.yaml".into())),
            Some(PathBuf::from("b.yaml"))
        );
        assert_eq!(file_of(&argv(&["kreg", "up"]), None), None);
    }

    #[test]
    fn the_schema_lists_every_up_flag_and_closes_the_file() {
        let s = schema(&crate::cli::Cli::command());
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(s["properties"]["up"]["additionalProperties"], false);
        for flag in [
            "expose",
            "auth",
            "mirror",
            "storage",
            "gc-schedule",
            "pull-secret-namespaces",
        ] {
            assert!(
                s["properties"]["up"]["properties"][flag].is_object(),
                "{flag}"
            );
        }
        assert_eq!(
            s["properties"]["up"]["properties"]["auth"]["type"],
            "boolean"
        );
        assert!(s["properties"]["namespace"].is_object());
    }
}
