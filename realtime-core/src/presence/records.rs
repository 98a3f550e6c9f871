//! Reading stored member records: each is checked against the schema of
//! `presence.joined` like any data read from storage, once per distinct text per
//! process: `members()` of a large channel reads mostly the same records again.

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::util::lock;

/// Distinct record texts remembered as checked; past it, the memory starts again empty.
const REMEMBERED: usize = 100_000;

/// The records this process has checked, by a keyed hash of their text (the key is
/// random per process, so no one can craft a text that passes for another).
#[derive(Debug, Default)]
pub(crate) struct CheckedRecords {
    hasher: RandomState,
    checked: Mutex<HashSet<u64>>,
}

impl CheckedRecords {
    /// Decodes `records`: each must be JSON that passes the schema of the event at
    /// `index` (checked once per distinct text) and deserializes into `T`. The failures
    /// come back as messages, in no particular order after the successes.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        catalog: &Catalog,
        index: usize,
        records: &[String],
    ) -> (Vec<T>, Vec<String>) {
        let hashes: Vec<u64> = records
            .iter()
            .map(|record| self.hasher.hash_one(record.as_bytes()))
            .collect();
        let known: Vec<bool> = {
            let checked = lock(&self.checked);
            hashes.iter().map(|hash| checked.contains(hash)).collect()
        };
        let mut decoded = Vec::with_capacity(records.len());
        let mut failures = Vec::new();
        let mut newly_checked = Vec::new();
        for ((record, hash), known) in records.iter().zip(&hashes).zip(known) {
            let result = if known {
                serde_json::from_str::<T>(record).map_err(|error| error.to_string())
            } else {
                check_and_decode(catalog, index, record).inspect(|_| newly_checked.push(*hash))
            };
            match result {
                Ok(value) => decoded.push(value),
                Err(error) => failures.push(error),
            }
        }
        if !newly_checked.is_empty() {
            let mut checked = lock(&self.checked);
            if checked.len() + newly_checked.len() > REMEMBERED {
                checked.clear();
            }
            checked.extend(newly_checked);
        }
        (decoded, failures)
    }
}

fn check_and_decode<T: DeserializeOwned>(
    catalog: &Catalog,
    index: usize,
    record: &str,
) -> Result<T, String> {
    let value = serde_json::from_str::<Value>(record).map_err(|error| error.to_string())?;
    catalog
        .validate(index, &value)
        .map_err(|error| error.to_string())?;
    serde_json::from_value::<T>(value).map_err(|error| error.to_string())
}
