//! `docs/configuration.md` against the code: every key the configuration
//! loader accepts has exactly one row there, with its environment variable
//! and the default from `config/default.toml`, and no row names a key the
//! loader rejects.
//!
//! The keys come from the loader itself. Every settings struct denies
//! unknown fields, so setting `GUESTISSUER__<PATH>__ZZZPROBE` makes the
//! loader list the fields it expects at that path. A path whose probe gives
//! no such list is a leaf.

use std::collections::{BTreeMap, HashMap};

use guestissuer::config::{DEFAULTS_TOML, Settings};

const DOC: &str = include_str!("../../docs/configuration.md");
const PROBE: &str = "zzzprobe";

/// One documented key: its environment variable and default cells.
#[derive(Debug)]
struct Row {
    env: String,
    default: String,
}

/// Returns the fields the loader expects at `path` (empty for the root),
/// or `None` when `path` is a leaf.
fn expected_fields(path: &[String]) -> Option<Vec<String>> {
    let mut name = "GUESTISSUER".to_owned();
    for part in path {
        name.push_str("__");
        name.push_str(&part.to_uppercase());
    }
    name.push_str("__");
    name.push_str(&PROBE.to_uppercase());
    let env = HashMap::from([(name, "1".to_owned())]);
    let error = Settings::load_with_env(None, env).err()?.to_string();
    let unknown = format!("unknown field `{PROBE}`, expected ");
    let list = &error[error.find(&unknown)? + unknown.len()..];
    let list = list.split(" for key ").next().unwrap_or(list);
    let fields = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some(fields)
}

/// Walks the loader's fields from the root and returns every leaf key.
fn code_keys() -> Vec<String> {
    let mut keys = Vec::new();
    let mut pending = vec![Vec::<String>::new()];
    while let Some(path) = pending.pop() {
        match expected_fields(&path) {
            Some(fields) => {
                for field in fields {
                    let mut child = path.clone();
                    child.push(field);
                    pending.push(child);
                }
            }
            None => keys.push(path.join(".")),
        }
    }
    keys.sort();
    keys
}

/// Reads the table rows of the document whose first cell is a key.
fn doc_rows() -> BTreeMap<String, Row> {
    let mut rows = BTreeMap::new();
    for line in DOC.lines().filter(|line| line.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        assert!(cells.len() >= 4, "row with fewer than 4 cells: {line}");
        let key = cells[0].trim_matches('`').to_owned();
        let row = Row {
            env: cells[1].trim_matches('`').to_owned(),
            default: cells[2].to_owned(),
        };
        assert!(
            rows.insert(key.clone(), row).is_none(),
            "{key} has two rows"
        );
    }
    rows
}

/// Returns the value of `key` in `config/default.toml`, if present.
fn default_value(key: &str) -> Option<toml::Value> {
    let mut value = &toml::from_str::<toml::Value>(DEFAULTS_TOML).unwrap();
    for part in key.split('.') {
        value = value.get(part)?;
    }
    Some(value.clone())
}

/// Renders a default the way the document writes it.
fn render_default(value: Option<toml::Value>) -> String {
    match value {
        None => "unset".to_owned(),
        Some(toml::Value::Array(items)) if items.iter().any(toml::Value::is_table) => {
            "see `config/default.toml`".to_owned()
        }
        Some(value) => format!("`{value}`"),
    }
}

fn env_var(key: &str) -> String {
    format!("GUESTISSUER__{}", key.to_uppercase().replace('.', "__"))
}

#[test]
fn config_docs_list_every_key() {
    let keys = code_keys();
    assert!(keys.contains(&"server.listen".to_owned()), "{keys:?}");
    let rows = doc_rows();

    let missing: Vec<String> = keys
        .iter()
        .filter(|key| !rows.contains_key(*key))
        .map(|key| {
            let default = render_default(default_value(key));
            format!("| `{key}` | `{}` | {default} | ... |", env_var(key))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md has no row for these keys; add them:\n{}",
        missing.join("\n")
    );

    let unknown: Vec<&String> = rows.keys().filter(|key| !keys.contains(key)).collect();
    assert!(
        unknown.is_empty(),
        "docs/configuration.md documents keys the loader rejects: {unknown:?}"
    );
}

#[test]
fn config_docs_env_vars_and_defaults_match() {
    for (key, row) in doc_rows() {
        assert_eq!(row.env, env_var(&key), "environment variable of {key}");
        let expected = render_default(default_value(&key));
        assert_eq!(row.default, expected, "default of {key}");
    }
}

#[test]
fn expected_fields_lists_section_fields() {
    let fields = expected_fields(&["server".to_owned()]).unwrap();
    assert!(fields.contains(&"listen".to_owned()), "{fields:?}");
    assert!(
        fields.contains(&"shutdown_grace_ms".to_owned()),
        "{fields:?}"
    );
    assert_eq!(
        expected_fields(&["server".to_owned(), "listen".to_owned()]),
        None
    );
}
