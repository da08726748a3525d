//! One output-format mechanism for every command: the global `-w/--write-out` (alias `-o`)
//! names a [`Format`]; each command offers a subset, mapped to its own format enum, with its
//! human format as the default. `yaml` is produced from the command's JSON document by
//! transcoding (same fields, same order), so a command that writes JSON gets YAML for free.

use std::io::Write;

use clap::ValueEnum;

use crate::args::Format;
use crate::fail::{CmdResult, Failure};

/// The format a command runs with: its own format value, and whether its JSON output is to be
/// turned into YAML.
#[derive(Debug, Clone, Copy)]
pub struct Chosen<T> {
    /// The command's own format (its JSON one when `yaml`).
    pub format: T,
    /// Transcode the JSON written into YAML.
    pub yaml: bool,
}

/// Picks the command's format from what the user asked (`None`: the default, the first
/// entry of `offered`). `offered` maps each accepted name to the command's format; `yaml`
/// maps to the command's JSON format. Anything else is a usage error naming what is offered.
pub fn choose<T: Copy>(
    requested: Option<Format>,
    command: &str,
    offered: &[(Format, T)],
) -> Result<Chosen<T>, Failure> {
    let Some((_, default)) = offered.first() else {
        return Err(Failure::usage(format!("{command}: no output format")));
    };
    let Some(req) = requested else {
        return Ok(Chosen {
            format: *default,
            yaml: false,
        });
    };
    match offered.iter().find(|(f, _)| *f == req) {
        Some((f, t)) => Ok(Chosen {
            format: *t,
            yaml: *f == Format::Yaml,
        }),
        None => {
            let names: Vec<String> = offered.iter().map(|(f, _)| name(*f)).collect();
            Err(Failure::usage(format!(
                "{command}: output format {} is not offered; use -w {}",
                name(req),
                names.join(", ")
            )))
        }
    }
}

/// The name `-w` takes for `f`.
pub fn name(f: Format) -> String {
    f.to_possible_value()
        .map_or_else(|| format!("{f:?}"), |v| v.get_name().to_string())
}

/// Runs `body` writing to `out`, or, with `yaml`, to a buffer whose JSON documents are then
/// written to `out` as YAML documents (`---` between them). The whole JSON output is held in
/// memory for YAML: it is a format for reading, not for bulk listings (use jsonl for those).
pub fn with_yaml(
    yaml: bool,
    out: &mut dyn Write,
    body: impl FnOnce(&mut dyn Write) -> CmdResult,
) -> CmdResult {
    if !yaml {
        return body(out);
    }
    let mut buf = Vec::new();
    let outcome = body(&mut buf)?;
    json_to_yaml(&buf, out)?;
    Ok(outcome)
}

/// Transcodes a stream of JSON documents into YAML, keeping field order and numbers exact.
pub fn json_to_yaml(json: &[u8], out: &mut dyn Write) -> Result<(), Failure> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let mut first = true;
    loop {
        // Skip whitespace between documents; stop at the end.
        if de.end().is_ok() {
            return Ok(());
        }
        if !first {
            out.write_all(b"---\n")?;
        }
        first = false;
        let mut text = Vec::new();
        {
            let mut ser = serde_yaml_ng::Serializer::new(&mut text);
            serde_transcode::transcode(&mut de, &mut ser)
                .map_err(|e| Failure::Message(format!("yaml output: {e}")))?;
        }
        out.write_all(&text)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_keeps_order_and_big_numbers() {
        let mut out = Vec::new();
        json_to_yaml(
            br#"{"z":1,"a":18446744073709551615,"s":"x: y"}
{"b":[true,null]}
"#,
            &mut out,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert_eq!(
            s,
            "z: 1\na: 18446744073709551615\ns: 'x: y'\n---\nb:\n- true\n- null\n"
        );
    }

    #[test]
    fn choose_default_alias_and_refusal() {
        let offered = [(Format::Simple, 1), (Format::Json, 2), (Format::Yaml, 2)];
        assert_eq!(choose(None, "x", &offered).unwrap().format, 1);
        let y = choose(Some(Format::Yaml), "x", &offered).unwrap();
        assert!(y.yaml && y.format == 2);
        let e = choose(Some(Format::Table), "x", &offered).unwrap_err();
        assert!(e.to_string().contains("use -w simple, json, yaml"), "{e}");
    }
}
