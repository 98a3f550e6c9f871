//! Which of a cluster's 16,384 hash slots a key belongs to: CRC16 (XMODEM) of the key, or of
//! its hash tag (the text between the first `{` and the next `}`, when not empty).

/// The number of hash slots of a Redis Cluster.
pub(crate) const SLOTS: usize = 16_384;

/// The hash slot of `key`, as `CLUSTER KEYSLOT` computes it.
pub(crate) fn key_slot(key: &[u8]) -> u16 {
    let hashed = hash_tag(key).unwrap_or(key);
    // The remainder is below 16,384, so it fits.
    (crc16(hashed) % SLOTS as u16) & 0x3fff
}

/// The hash tag of `key`: the non-empty text between its first `{` and the next `}`.
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&byte| byte == b'{')?;
    let rest = &key[open + 1..];
    let close = rest.iter().position(|&byte| byte == b'}')?;
    (close > 0).then(|| &rest[..close])
}

/// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, as the cluster spec defines.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_specification() {
        // The spec's check value, and slots that `CLUSTER KEYSLOT` gives.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        assert_eq!(key_slot(b"foo"), 12_182);
        assert_eq!(key_slot(b"bar"), 5_061);
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn a_hash_tag_decides_the_slot() {
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(
            key_slot(b"{realtime:room-42}#idem:k"),
            key_slot(b"realtime:room-42")
        );
        // An empty tag, or a lone brace, is no tag: the whole key is hashed.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16_384);
        assert_eq!(key_slot(b"foo{bar"), crc16(b"foo{bar") % 16_384);
        assert_eq!(key_slot(b"{a}{b}"), key_slot(b"a"));
    }
}
