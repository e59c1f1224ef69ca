//! Base64 (standard alphabet, with padding): how bytes travel inside JSON, from the page to the
//! engine (file parameters) and back (the pixels of a report's images).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Each byte's value in the alphabet, or 0xFF: a table, so decoding megabytes stays fast.
const VALUES: [u8; 256] = {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 64 {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// The text without its padding, if every other character is in the alphabet and the length is possible.
fn body(text: &str) -> Result<&[u8], String> {
    let body = text.trim_end_matches('=').as_bytes();
    if let Some(&c) = body.iter().find(|&&c| VALUES[c as usize] == 0xFF) {
        return Err(format!("not base64: {:?}", c as char));
    }
    if body.len() % 4 == 1 || text.len() - body.len() > 2 {
        return Err("not base64: wrong length".into());
    }
    Ok(body)
}

/// How many bytes `text` decodes to, after checking it is base64 (without decoding).
pub fn decoded_len(text: &str) -> Result<usize, String> {
    body(text).map(|b| b.len() * 3 / 4)
}

pub fn decode(text: &str) -> Result<Vec<u8>, String> {
    let body = body(text)?;
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &c)| n | (VALUES[c as usize] as u32) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    Ok(out)
}

/// For `#[serde(serialize_with = "crate::base64::serialize")]`: bytes as base64 text in JSON,
/// rather than serde's array of numbers (about three times the size).
pub fn serialize<S: serde::Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_matches_the_standard() {
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7, 200]] {
            let text = encode(bytes);
            assert_eq!(decode(&text).unwrap(), bytes);
            assert_eq!(decoded_len(&text).unwrap(), bytes.len());
            assert_eq!(decode(text.trim_end_matches('=')).unwrap(), bytes, "padding is optional");
        }
        assert_eq!(encode(b"Man"), "TWFu");
        assert_eq!(encode(b"Ma"), "TWE=");
        assert_eq!(encode(b"M"), "TQ==");
    }

    #[test]
    fn rejects_what_is_not_base64() {
        assert!(decode("TW!u").unwrap_err().contains("'!'"));
        assert!(decode("TWFuT").is_err());
        assert!(decode("TQ===").is_err());
        assert!(decoded_len("a b=").is_err());
    }
}
