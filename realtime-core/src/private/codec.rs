//! Event data from JSON, and the kind enum from its name: the serde side of the generated
//! `Events` impl (it serializes data with serde's own derive).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{DecodeError, UnknownEvent};

/// Deserializes the data of `event`, reporting the JSON path of the first offending value.
pub fn decode_data<T: DeserializeOwned>(
    event: &'static str,
    data: Value,
) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(data).map_err(|error| {
        let path = error.path().to_string();
        DecodeError::InvalidData {
            event,
            path,
            message: error.into_inner().to_string(),
        }
    })
}

/// Deserializes the data of `event` from its JSON text, reporting the JSON path of the
/// first offending value. Straight from the text, not through a [`Value`]: a `Value` turns
/// an integer beyond 64 bits into an `f64`, which a `u128` or `i128` then refuses. Text
/// that serde's derive refuses but a `Value` reads (a repeated key: the last one counts,
/// as in `JSON.parse` and the schema's validation) is decoded through the `Value`.
pub fn decode_data_json<T: DeserializeOwned>(
    event: &'static str,
    data: &str,
) -> Result<T, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_str(data);
    let direct = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| {
            let path = error.path().to_string();
            DecodeError::InvalidData {
                event,
                path,
                message: error.into_inner().to_string(),
            }
        })
        .and_then(|value: T| {
            deserializer
                .end()
                .map_err(|error| not_json(event, &error))?;
            Ok(value)
        });
    match direct {
        Ok(value) => Ok(value),
        Err(error) => match parse_data(event, data) {
            Ok(value) => decode_data(event, value).map_err(|_| error),
            Err(_) => Err(error),
        },
    }
}

/// Decodes the JSON text of a unit variant's data, which must be `null`.
pub fn decode_unit_json(event: &'static str, data: &str) -> Result<(), DecodeError> {
    decode_unit(event, &parse_data(event, data)?)
}

/// Parses the data of `event` into a [`Value`].
pub(crate) fn parse_data(event: &'static str, data: &str) -> Result<Value, DecodeError> {
    serde_json::from_str(data).map_err(|error| not_json(event, &error))
}

fn not_json(event: &'static str, error: &serde_json::Error) -> DecodeError {
    DecodeError::InvalidData {
        event,
        path: ".".to_owned(),
        message: format!("data is not JSON: {error}"),
    }
}

/// Decodes the data of a unit variant, which must be `null`.
pub fn decode_unit(event: &'static str, data: &Value) -> Result<(), DecodeError> {
    if data.is_null() {
        Ok(())
    } else {
        Err(DecodeError::InvalidData {
            event,
            path: ".".to_owned(),
            message: format!("expected null, found {}", json_kind(data)),
        })
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Deserializes an event kind from its name (the derived `Deserialize` of a kind enum);
/// an unknown name is an error listing the expected ones.
pub fn deserialize_kind<'de, K, D>(deserializer: D) -> Result<K, D::Error>
where
    K: std::str::FromStr<Err = UnknownEvent>,
    D: serde::Deserializer<'de>,
{
    struct KindVisitor<K>(std::marker::PhantomData<K>);

    impl<K: std::str::FromStr<Err = UnknownEvent>> serde::de::Visitor<'_> for KindVisitor<K> {
        type Value = K;

        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an event name")
        }

        fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<K, E> {
            name.parse().map_err(E::custom)
        }
    }

    deserializer.deserialize_str(KindVisitor(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_data_reports_the_path() {
        let error = decode_data::<Vec<u32>>("x.y", serde_json::json!([1, "two"])).unwrap_err();
        assert_eq!(
            error,
            DecodeError::InvalidData {
                event: "x.y",
                path: "[1]".to_owned(),
                message: "invalid type: string \"two\", expected u32".to_owned(),
            }
        );
    }
}
