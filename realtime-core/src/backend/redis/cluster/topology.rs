//! The slot map: which master owns each of the 16,384 slots, read from `CLUSTER SLOTS`.

use std::sync::Arc;

use redis::Value;

use super::NodeAddr;
use super::slot::SLOTS;

/// The owner of each slot (`None` while no master serves it).
#[derive(Clone, Debug)]
pub(super) struct SlotMap {
    owners: Vec<Option<NodeAddr>>,
}

impl Default for SlotMap {
    fn default() -> Self {
        Self {
            owners: vec![None; SLOTS],
        }
    }
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(number) => Some(*number),
        Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(text) => Some(text.clone()),
        _ => None,
    }
}

impl SlotMap {
    pub(super) fn master_of(&self, slot: u16) -> Option<NodeAddr> {
        self.owners.get(usize::from(slot)).cloned().flatten()
    }

    /// The distinct masters that own slots.
    pub(super) fn masters(&self) -> Vec<NodeAddr> {
        let mut masters: Vec<NodeAddr> = Vec::new();
        for owner in self.owners.iter().flatten() {
            if !masters.contains(owner) {
                masters.push(Arc::clone(owner));
            }
        }
        masters
    }

    /// Points `slot` at `owner` (after a `MOVED`).
    pub(super) fn assign(&mut self, slot: u16, owner: NodeAddr) {
        if let Some(entry) = self.owners.get_mut(usize::from(slot)) {
            *entry = Some(owner);
        }
    }

    /// Reads a `CLUSTER SLOTS` reply, `[[start, end, [host, port, id, ...], replicas...],
    /// ...]`, given by the node at `from` (whose host stands in for an empty one).
    pub(super) fn parse(reply: &Value, from: &str) -> Result<Self, String> {
        let malformed = || format!("{from}: malformed CLUSTER SLOTS reply");
        let Value::Array(ranges) = reply else {
            return Err(malformed());
        };
        let from_host = from.rsplit_once(':').map_or(from, |(host, _)| host);
        let mut map = Self::default();
        for range in ranges {
            let Value::Array(parts) = range else {
                return Err(malformed());
            };
            let (Some(start), Some(end), Some(Value::Array(master))) = (
                parts.first().and_then(int),
                parts.get(1).and_then(int),
                parts.get(2),
            ) else {
                return Err(malformed());
            };
            let host = master.first().and_then(text).ok_or_else(malformed)?;
            let port = master.get(1).and_then(int).ok_or_else(malformed)?;
            let host = if host.is_empty() || host == "?" {
                from_host.to_owned()
            } else {
                host
            };
            let owner: NodeAddr = Arc::from(format!("{host}:{port}"));
            let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
                return Err(malformed());
            };
            if start > end || end >= SLOTS {
                return Err(malformed());
            }
            for entry in &mut map.owners[start..=end] {
                *entry = Some(Arc::clone(&owner));
            }
        }
        if map.owners.iter().all(Option::is_none) {
            return Err(format!("{from}: CLUSTER SLOTS lists no slot"));
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn a_cluster_slots_reply_gives_each_slot_its_master() {
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(7101), bulk("id-a")]),
                Value::Array(vec![bulk("127.0.0.1"), Value::Int(7104), bulk("id-d")]),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                Value::Array(vec![bulk(""), Value::Int(7102), bulk("id-b")]),
            ]),
        ]);
        let map = SlotMap::parse(&reply, "10.0.0.9:7102").unwrap();
        assert_eq!(map.master_of(0).as_deref(), Some("127.0.0.1:7101"));
        assert_eq!(map.master_of(5460).as_deref(), Some("127.0.0.1:7101"));
        assert_eq!(map.master_of(5461).as_deref(), Some("10.0.0.9:7102"));
        assert_eq!(map.masters().len(), 2);
        assert!(SlotMap::parse(&Value::Array(vec![]), "x:1").is_err());
        assert!(SlotMap::parse(&Value::Nil, "x:1").is_err());
        let out_of_range = Value::Array(vec![Value::Array(vec![
            Value::Int(0),
            Value::Int(16384),
            Value::Array(vec![bulk("h"), Value::Int(1)]),
        ])]);
        assert!(SlotMap::parse(&out_of_range, "x:1").is_err());
    }
}
