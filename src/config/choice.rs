//! Configuration values that name one of a fixed set of choices.

/// Finds `text` among the `choices` (configuration value, enum value), or
/// returns an error that lists every allowed value. Serves as the body of
/// the `TryFrom<String>` behind `#[serde(try_from = "String")]`, because
/// the `config` crate's own enum error names neither the allowed values nor
/// anything but the Rust type.
pub(crate) fn parse_choice<T: Copy>(text: &str, choices: &[(&str, T)]) -> Result<T, String> {
    if let Some((_, value)) = choices.iter().find(|(name, _)| *name == text) {
        return Ok(*value);
    }
    let names: Vec<String> = choices
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    Err(format!("\"{text}\" is not one of {}", names.join(", ")))
}
